package dev.specdec.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.request.Completion;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.PromptDataset;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.serve.Generator;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code specdec generate}: complete prompts with the engine and print the results. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate completions for one prompt, token ids, or a JSONL prompt file.")
public final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--prompt", description = "Prompt text.") String prompt;
        @Option(names = "--prompt-ids", split = ",", description = "Prompt as token ids, e.g. 1,2,3.") int[] promptIds;
        @Option(names = "--prompts", description = "JSONL file: {id,prompt}, MT-bench or GSM8K lines.") Path prompts;
    }

    @Mixin
    SamplingOptions sampling;

    @Mixin
    DrafterOptions drafter;

    @Option(names = "--batch-size", defaultValue = "8", description = "Sequences decoded together.")
    int batchSize;

    @Option(names = "--json", description = "Print one JSON object per prompt.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        SamplingParams params = sampling.toParams(128);
        try (EngineSession session = model.open(batchSize);
             Decoder decoder = session.decoder(drafter.method(model.modelDir()), drafter.decoderOptions())) {
            List<DecodeRequest> requests = new ArrayList<>();
            if (input.prompt != null || input.promptIds != null) {
                int[] ids = input.prompt != null ? session.tokenizer().encode(input.prompt) : input.promptIds;
                DecodeRequest single = new DecodeRequest("1", ids, params);
                single.checkAgainst(session.model().config);   // a bad single prompt is a usage error
                requests.add(single);
            } else {
                for (PromptDataset.Prompt p : PromptDataset.read(input.prompts)) {
                    requests.add(new DecodeRequest(p.id(), session.tokenizer().encode(p.text()), params));
                }
            }
            ObjectMapper om = new ObjectMapper();
            int errors = 0;
            for (Completion r : Generator.run(session, decoder, requests)) {
                if (r.error() != null) {
                    errors++;
                }
                if (json) {
                    System.out.println(om.writeValueAsString(toJson(om, r)));
                } else if (r.error() != null) {
                    System.out.println("[" + r.id() + "] error: " + r.error());
                } else {
                    System.out.println(requests.size() > 1 ? "[" + r.id() + "] " + r.text() : r.text());
                }
            }
            return errors > 0 ? 1 : 0;
        }
    }

    static ObjectNode toJson(ObjectMapper om, Completion r) {
        ObjectNode o = om.createObjectNode();
        o.put("id", r.id());
        o.put("text", r.text());
        var ids = o.putArray("token_ids");
        Arrays.stream(r.tokenIds()).forEach(ids::add);
        o.put("finish_reason", r.finish().wireName());
        if (r.error() != null) {
            o.put("error", r.error());
        }
        ObjectNode usage = o.putObject("usage");
        usage.put("prompt_tokens", r.promptTokens());
        usage.put("completion_tokens", r.completionTokens());
        ObjectNode spec = o.putObject("speculative");
        spec.put("steps", r.speculation().steps());
        spec.put("accepted_draft_tokens", r.speculation().acceptedDraftTokens());
        spec.put("mean_acceptance_length", r.speculation().meanAcceptanceLength());
        spec.put("draft_ms", r.speculation().draftMillis());
        spec.put("verify_ms", r.speculation().verifyMillis());
        ObjectNode t = o.putObject("timings");
        t.put("prefill_ms", r.timings().prefillMillis());
        t.put("first_token_ms", r.timings().firstTokenMillis());
        t.put("total_ms", r.timings().totalMillis());
        return o;
    }

}

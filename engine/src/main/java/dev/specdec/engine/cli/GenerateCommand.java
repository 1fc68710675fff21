package dev.specdec.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.generate.Decoder;
import dev.specdec.engine.generate.GenerationRequest;
import dev.specdec.engine.generate.GenerationResult;
import dev.specdec.engine.generate.Generator;
import dev.specdec.engine.generate.PromptFile;
import dev.specdec.engine.generate.SamplingParams;
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
        SamplingParams params = sampling.toParams();
        params.validate();
        try (EngineSession session = model.open(batchSize);
             Decoder decoder = drafter.decoder(session)) {
            List<GenerationRequest> requests = new ArrayList<>();
            if (input.prompt != null || input.promptIds != null) {
                int[] ids = input.prompt != null ? session.tokenizer().encode(input.prompt) : input.promptIds;
                GenerationRequest single = new GenerationRequest("1", ids, params);
                Generator.validate(session.model(), single);   // a bad single prompt is a usage error
                requests.add(single);
            } else {
                for (PromptFile.Prompt p : PromptFile.read(input.prompts)) {
                    requests.add(new GenerationRequest(p.id(), session.tokenizer().encode(p.text()), params));
                }
            }
            ObjectMapper om = new ObjectMapper();
            int errors = 0;
            for (GenerationResult r : session.generator(decoder).run(requests)) {
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

    static ObjectNode toJson(ObjectMapper om, GenerationResult r) {
        ObjectNode o = om.createObjectNode();
        o.put("id", r.id());
        o.put("text", r.text());
        var ids = o.putArray("token_ids");
        Arrays.stream(r.tokenIds()).forEach(ids::add);
        o.put("finish_reason", r.finishReason().wireName());
        if (r.error() != null) {
            o.put("error", r.error());
        }
        ObjectNode usage = o.putObject("usage");
        usage.put("prompt_tokens", r.promptTokens());
        usage.put("completion_tokens", r.completionTokens());
        ObjectNode spec = o.putObject("speculative");
        spec.put("steps", r.steps());
        spec.put("accepted_draft_tokens", r.acceptedDraftTokens());
        spec.put("mean_acceptance_length", r.meanAcceptanceLength());
        spec.put("draft_ms", r.draftMillis());
        spec.put("verify_ms", r.verifyMillis());
        ObjectNode t = o.putObject("timings");
        t.put("prefill_ms", r.prefillMillis());
        t.put("first_token_ms", r.firstTokenMillis());
        t.put("total_ms", r.totalMillis());
        return o;
    }

}

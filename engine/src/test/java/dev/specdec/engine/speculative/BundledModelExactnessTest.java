package dev.specdec.engine.speculative;

import ai.djl.Device;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.Fixtures;
import dev.specdec.engine.TorchThreads;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.Completion;
import dev.specdec.engine.request.PromptDataset;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.serve.Generator;
import dev.specdec.engine.ForwardMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On the bundled model and its trained CTC drafter: speculative decoding with the exact transform
 * gives plain decoding's tokens for every in-domain held-out prompt and for out-of-domain prompts of
 * our own (code, math, chat, Unicode, repetitions), at batch sizes 1 and 8, greedy and sampled, on
 * the eager and on the compiled forward.
 */
class BundledModelExactnessTest {
    private static final int MAX_NEW = 48;

    private static Path model() {
        Path m = Fixtures.projectRoot().resolve("models/kjv-llama-12m");
        assertTrue(Files.isRegularFile(m.resolve("drafter-ctc/drafter.json")),
                "the bundled model and its CTC drafter belong to the repository: " + m);
        return m;
    }

    private static List<DecodeRequest> requests(EngineSession s, Path file, SamplingParams p, String prefix) throws Exception {
        List<DecodeRequest> r = new ArrayList<>();
        for (PromptDataset.Prompt q : PromptDataset.read(file)) {
            r.add(new DecodeRequest(prefix + q.id(), s.tokenizer().encode(q.text()), p));
        }
        return r;
    }

    private static void assertIdentical(List<Completion> plain, List<Completion> spec, String what) {
        assertEquals(plain.size(), spec.size());
        int differ = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < plain.size(); i++) {
            if (!java.util.Arrays.equals(plain.get(i).tokenIds(), spec.get(i).tokenIds())) {
                if (differ++ == 0) {
                    first.append(plain.get(i).id());
                }
            }
        }
        assertEquals(0, differ, what + ": " + differ + " of " + plain.size() + " prompts differ from plain decoding, first "
                + first);
    }

    @ParameterizedTest
    @EnumSource(ForwardMode.class)
    void greedyCtcEqualsPlainOnBothPromptSetsAtBatch1And8(ForwardMode forward) throws Exception {
        Path m = model();
        List<DecodeRequest> all = new ArrayList<>();
        try (EngineSession s = EngineSession.open(m, Device.cpu(), 8, forward)) {
            SamplingParams p = SamplingParams.greedy(MAX_NEW);
            all.addAll(requests(s, Fixtures.projectRoot().resolve("data/kjv/heldout-prompts.jsonl"), p, ""));
            all.addAll(requests(s, Fixtures.resource("prompts/out-of-domain.jsonl"), p, ""));
            List<Completion> plain;
            try (Decoder none = s.decoder(DecodingMethod.NONE)) {
                plain = Generator.run(s, none, all);
            }
            for (int batch : new int[] {1, 8}) {
                try (EngineSession sb = EngineSession.open(m, Device.cpu(), batch, forward);
                     Decoder ctc = sb.decoder(DecodingMethod.CTC)) {
                    List<Completion> spec = Generator.run(sb, ctc, all);
                    assertIdentical(plain, spec, "ctc at batch " + batch);
                    double beta = spec.stream().mapToDouble(c -> c.speculation().meanAcceptanceLength()).average().orElse(0);
                    assertTrue(beta > 1.5, "the trained drafter should be accepted, beta " + beta);
                }
            }
        }
    }

    /**
     * Temperature 0.8 (once plain, once with top-k 40 and top-p 0.95): every speculative method gives
     * plain sampling's tokens, with one and with two intra-op threads (the thread count changes the
     * float rounding of every pass; Gumbel-max sampling keyed by position and token absorbs it).
     */
    @ParameterizedTest
    @EnumSource(ForwardMode.class)
    void sampledDecodingEqualsPlainSamplingForEveryMethodAndThreadCount(ForwardMode forward) throws Exception {
        Path m = model();
        int before = TorchThreads.current();
        try (EngineSession s = EngineSession.open(m, Device.cpu(), 4, forward)) {
            List<DecodeRequest> reqs = new ArrayList<>();
            for (SamplingParams p : List.of(
                    new SamplingParams(MAX_NEW, 0.8, 0, 1.0, 17, Set.of(), List.of(), false),
                    new SamplingParams(MAX_NEW, 0.8, 40, 0.95, 3, Set.of(), List.of(), false))) {
                reqs.addAll(requests(s, Fixtures.projectRoot().resolve("data/kjv/heldout-prompts.jsonl"), p,
                        "k" + p.topK() + "-").subList(0, 12));
            }
            TorchThreads.use(1);
            List<Completion> plain;
            try (Decoder none = s.decoder(DecodingMethod.NONE)) {
                plain = Generator.run(s, none, reqs);
            }
            for (int threads : new int[] {1, 2}) {
                TorchThreads.use(threads);
                for (DecodingMethod method : List.of(DecodingMethod.NONE, DecodingMethod.CTC, DecodingMethod.MEDUSA,
                        DecodingMethod.NGRAM)) {
                    try (Decoder d = s.decoder(method)) {
                        assertIdentical(plain, Generator.run(s, d, reqs), method.wireName() + " with " + threads + " threads");
                    }
                }
            }
        } finally {
            TorchThreads.use(before);
        }
    }
}

package dev.specdec.engine.spec;

import ai.djl.Device;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.Fixtures;
import dev.specdec.engine.generate.Decoder;
import dev.specdec.engine.generate.GenerationRequest;
import dev.specdec.engine.generate.GenerationResult;
import dev.specdec.engine.generate.PromptFile;
import dev.specdec.engine.generate.SamplingParams;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On the bundled model and its trained CTC drafter: speculative decoding with the exact transform
 * gives plain decoding's tokens for every in-domain held-out prompt and every MT-bench prompt, at
 * batch sizes 1 and 8, greedy and sampled.
 */
class BundledModelExactnessTest {
    private static final int MAX_NEW = 48;

    private static Path model() {
        Path m = Fixtures.projectRoot().resolve("models/kjv-llama-12m");
        Assumptions.assumeTrue(Files.isRegularFile(m.resolve("drafter-ctc/drafter.json")),
                "bundled model or its CTC drafter not present at " + m + "; skipping");
        return m;
    }

    private static List<GenerationRequest> requests(EngineSession s, Path file, SamplingParams p, String prefix) throws Exception {
        List<GenerationRequest> r = new ArrayList<>();
        for (PromptFile.Prompt q : PromptFile.read(file)) {
            r.add(new GenerationRequest(prefix + q.id(), s.tokenizer().encode(q.text()), p));
        }
        return r;
    }

    private static void assertIdentical(List<GenerationResult> plain, List<GenerationResult> spec, String what) {
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

    @Test
    void greedyCtcEqualsPlainOnBothPromptSetsAtBatch1And8() throws Exception {
        Path m = model();
        List<GenerationRequest> all = new ArrayList<>();
        try (EngineSession s = EngineSession.open(m, Device.cpu(), 8)) {
            SamplingParams p = SamplingParams.greedy(MAX_NEW);
            all.addAll(requests(s, Fixtures.projectRoot().resolve("data/kjv/heldout-prompts.jsonl"), p, ""));
            Path mt = Fixtures.projectRoot().resolveSibling("shared").resolve("data").resolve("mtbench_question.jsonl");
            if (Files.isRegularFile(mt)) {
                all.addAll(requests(s, mt, p, "mtbench-"));
            }
            List<GenerationResult> plain;
            try (Decoder none = s.decoder("none")) {
                plain = s.generator(none).run(all);
            }
            for (int batch : new int[] {1, 8}) {
                try (EngineSession sb = EngineSession.open(m, Device.cpu(), batch); Decoder ctc = sb.decoder("ctc")) {
                    List<GenerationResult> spec = sb.generator(ctc).run(all);
                    assertIdentical(plain, spec, "ctc at batch " + batch);
                    double beta = spec.stream().mapToDouble(GenerationResult::meanAcceptanceLength).average().orElse(0);
                    assertTrue(beta > 1.5, "the trained drafter should be accepted, beta " + beta);
                }
            }
        }
    }

    @Test
    void sampledCtcEqualsPlainSampling() throws Exception {
        Path m = model();
        try (EngineSession s = EngineSession.open(m, Device.cpu(), 4)) {
            for (long seed : new long[] {3, 17}) {
                SamplingParams p = new SamplingParams(MAX_NEW, 0.8, 40, 0.95, seed, Set.of(), List.of(), false);
                List<GenerationRequest> reqs = requests(s, Fixtures.projectRoot().resolve("data/kjv/heldout-prompts.jsonl"), p, "")
                        .subList(0, 24);
                List<GenerationResult> plain;
                try (Decoder none = s.decoder("none")) {
                    plain = s.generator(none).run(reqs);
                }
                try (Decoder ctc = s.decoder("ctc")) {
                    List<GenerationResult> spec = s.generator(ctc).run(reqs);
                    for (int i = 0; i < reqs.size(); i++) {
                        assertArrayEquals(plain.get(i).tokenIds(), spec.get(i).tokenIds(), "seed " + seed + " " + reqs.get(i).id());
                    }
                }
            }
        }
    }
}

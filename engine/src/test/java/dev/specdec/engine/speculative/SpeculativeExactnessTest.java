package dev.specdec.engine.speculative;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.decode.PlainDecoder;
import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.ModelConfig;
import dev.specdec.engine.request.Completion;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.serve.Generator;
import dev.specdec.engine.train.TrainableLlama;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Speculative decoding emits exactly what plain decoding emits, greedy and sampled, at batch sizes 1
 * and 4, for every tree policy and the exact CTC transform, with drafts that are right, wrong,
 * blank and repeated in all combinations; on the eager forward here and on the compiled forward in
 * {@link CompiledSpeculativeExactnessTest}.
 */
class SpeculativeExactnessTest {

    static LlamaModel model;
    private static final int[][] PROMPTS = {{1, 5, 9, 44}, {1, 22}, {1, 61, 30, 19, 7, 8, 9, 10, 11}, {1, 3},
            {1, 90, 91, 92}, {1, 15, 16}};

    @BeforeAll
    static void makeModel() throws Exception {
        Path dir = Files.createTempDirectory("specdec-spec");
        ObjectNode json = ModelConfig.llamaConfigJson(48, 96, 2, 6, 3, 97, 160, 10000, false, 1, 2);
        try (NDManager m = NDManager.newBaseManager()) {
            TrainableLlama.initialize(ModelConfig.parse(json, null), m, 5).save(dir, json);
        }
        model = LlamaModel.load(dir, null);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static List<DecodeRequest> requests(SamplingParams p) {
        List<DecodeRequest> r = new ArrayList<>();
        for (int i = 0; i < PROMPTS.length; i++) {
            r.add(new DecodeRequest("r" + i, PROMPTS[i], p));
        }
        return r;
    }

    private static List<Completion> run(Decoder d, int batch, SamplingParams p) {
        try (EngineSession session = EngineSession.around(model, batch)) {
            return Generator.run(session, d, requests(p));
        }
    }

    private static Map<String, int[]> truth(List<Completion> plain) {
        Map<String, int[]> m = new HashMap<>();
        plain.forEach(r -> m.put(r.id(), r.tokenIds()));
        return m;
    }

    private static void assertSame(List<Completion> plain, List<Completion> spec, String what) {
        assertEquals(plain.size(), spec.size());
        for (int i = 0; i < plain.size(); i++) {
            assertArrayEquals(plain.get(i).tokenIds(), spec.get(i).tokenIds(), what + ": " + plain.get(i).id());
            assertEquals(plain.get(i).finish(), spec.get(i).finish(), what + ": " + plain.get(i).id());
        }
    }

    @Test
    void greedySpeculativeEqualsPlainForEveryTreeAndBatchSize() {
        SamplingParams p = new SamplingParams(48, 0, 0, 1, 0, Set.of(), List.of(), false);
        List<Completion> plain;
        try (KvCachePool pool = model.newCachePool(4, 32)) {
            plain = run(new PlainDecoder(model, pool), 1, p);
        }
        TreePolicy[] policies = {StaticTree.paper(), new RankedTree(12, 4, 10), StaticTree.chain(4)};
        double bestBeta = 0;
        for (TreePolicy policy : policies) {
            for (int batch : new int[] {1, 4}) {
                try (KvCachePool pool = model.newCachePool(batch, 32)) {
                    SpeculativeDecoder d = new SpeculativeDecoder(model, pool,
                            new ScriptedDrafter(truth(plain), 4, 10, 97, true, batch), policy, CtcTransform.Mode.EXACT, 0, DecodingMethod.CTC);
                    List<Completion> spec = run(d, batch, p);
                    assertSame(plain, spec, policy.describe() + " batch " + batch);
                    for (Completion r : spec) {
                        bestBeta = Math.max(bestBeta, r.speculation().meanAcceptanceLength());
                    }
                }
            }
        }
        assertTrue(bestBeta > 2.0, "the scripted drafts must be accepted several tokens at a time, beta " + bestBeta);
    }

    @Test
    void plainTransformWithMedusaStyleListsEqualsPlain() {
        SamplingParams p = SamplingParams.greedy(40);
        List<Completion> plain;
        try (KvCachePool pool = model.newCachePool(4, 32)) {
            plain = run(new PlainDecoder(model, pool), 2, p);
        }
        try (KvCachePool pool = model.newCachePool(4, 32)) {
            SpeculativeDecoder d = new SpeculativeDecoder(model, pool,
                    new ScriptedDrafter(truth(plain), 4, 10, 97, false, 9), StaticTree.paper(), CtcTransform.Mode.NONE, 0, DecodingMethod.MEDUSA);
            assertSame(plain, run(d, 3, p), "medusa-style");
        }
    }

    @Test
    void sampledSpeculativeEqualsPlainSampling() {
        for (long seed : new long[] {1, 42, 7}) {
            SamplingParams p = new SamplingParams(40, 0.9, 20, 0.95, seed, Set.of(), List.of(), false);
            List<Completion> plain;
            try (KvCachePool pool = model.newCachePool(4, 32)) {
                plain = run(new PlainDecoder(model, pool), 1, p);
            }
            for (int batch : new int[] {1, 4}) {
                try (KvCachePool pool = model.newCachePool(batch, 32)) {
                    SpeculativeDecoder d = new SpeculativeDecoder(model, pool,
                            new ScriptedDrafter(truth(plain), 4, 10, 97, true, seed), new RankedTree(16, 4, 10),
                            CtcTransform.Mode.EXACT, 0, DecodingMethod.CTC);
                    assertSame(plain, run(d, batch, p), "sampled seed " + seed + " batch " + batch);
                }
            }
        }
    }

    @Test
    void batchedSequencesRunToTheEndOfTheContext() {
        // 160-token context: every sequence ends by length, while others in its batch still verify big trees.
        SamplingParams p = new SamplingParams(400, 0, 0, 1, 0, Set.of(), List.of(), true);
        List<Completion> plain;
        try (KvCachePool pool = model.newCachePool(4, 32)) {
            plain = run(new PlainDecoder(model, pool), 1, p);
        }
        for (Completion r : plain) {
            assertEquals(160, r.promptTokens() + r.completionTokens(), "plain decoding fills the context");
        }
        try (KvCachePool pool = model.newCachePool(4, 32)) {
            SpeculativeDecoder d = new SpeculativeDecoder(model, pool,
                    new ScriptedDrafter(truth(plain), 4, 10, 97, true, 8), StaticTree.paper(), CtcTransform.Mode.EXACT, 0, DecodingMethod.CTC);
            assertSame(plain, run(d, 4, p), "to the end of the context");
        }
    }

    @Test
    void stopStringsAndEosCutTheSameToken() {
        SamplingParams p = new SamplingParams(60, 0, 0, 1, 0, Set.of(17, 23), List.of(), false);
        List<Completion> plain;
        try (KvCachePool pool = model.newCachePool(4, 32)) {
            plain = run(new PlainDecoder(model, pool), 1, p);
        }
        try (KvCachePool pool = model.newCachePool(4, 32)) {
            SpeculativeDecoder d = new SpeculativeDecoder(model, pool,
                    new ScriptedDrafter(truth(plain), 4, 10, 97, true, 3), StaticTree.paper(), CtcTransform.Mode.EXACT, 0, DecodingMethod.CTC);
            assertSame(plain, run(d, 4, p), "stop tokens");
        }
    }

    /** Runs {@code steps} steps, "fails", then continues from restored sequences. */
    private static List<int[]> interruptedRun(java.util.function.Function<KvCachePool, Decoder> make, int steps,
                                              boolean fullSnapshot, SamplingParams p) throws Exception {
        List<int[]> out = new ArrayList<>();
        try (KvCachePool pool = model.newCachePool(4, 32); EngineSession g = EngineSession.around(model, 4)) {
            Decoder d = make.apply(pool);
            List<SequenceState> seqs = new ArrayList<>();
            for (DecodeRequest r : requests(p)) {
                seqs.add(g.newSequence(r));
            }
            d.prefill(seqs);
            for (int i = 0; i < steps; i++) {
                List<SequenceState> live = seqs.stream().filter(x -> !x.isFinished()).toList();
                if (!live.isEmpty()) {
                    d.step(live);
                }
            }
            // Failure: rebuild every unfinished sequence from its tokens (or its full snapshot).
            List<SequenceState> restored = new ArrayList<>();
            List<byte[]> snaps = new ArrayList<>();
            for (SequenceState s : seqs) {
                SequenceState n = g.newSequence(s.request());
                n.restoreGenerated(s.generated());
                if (!s.isFinished()) {
                    restored.add(n);
                    snaps.add(d.exportCaches(s));
                }
            }
            d.release(seqs);
            if (fullSnapshot) {
                d.importCaches(restored, snaps);
            } else {
                d.restore(restored);
            }
            while (restored.stream().anyMatch(x -> !x.isFinished())) {
                d.step(restored.stream().filter(x -> !x.isFinished()).toList());
            }
            for (SequenceState s : seqs) {
                SequenceState r = restored.stream().filter(x -> x.id().equals(s.id()))
                        .findFirst().orElse(s);
                out.add(r.generated());
            }
            d.release(restored);
        }
        return out;
    }

    @Test
    void restoredSequencesContinueExactly() throws Exception {
        SamplingParams p = SamplingParams.greedy(40);
        List<Completion> plain;
        try (KvCachePool pool = model.newCachePool(4, 32)) {
            plain = run(new PlainDecoder(model, pool), 4, p);
        }
        for (boolean full : new boolean[] {false, true}) {
            List<int[]> a = interruptedRun(pool -> new PlainDecoder(model, pool), 7, full, p);
            List<int[]> b = interruptedRun(pool -> new SpeculativeDecoder(model, pool,
                    new ScriptedDrafter(truth(plain), 4, 10, 97, true, 5), new RankedTree(16, 4, 10),
                    CtcTransform.Mode.EXACT, 0, DecodingMethod.CTC), 3, full, p);
            for (int i = 0; i < plain.size(); i++) {
                assertArrayEquals(plain.get(i).tokenIds(), a.get(i), "plain restored (full=" + full + ")");
                assertArrayEquals(plain.get(i).tokenIds(), b.get(i), "speculative restored (full=" + full + ")");
            }
        }
    }

    @Test
    void faithfulModeRuns() {
        SamplingParams p = SamplingParams.greedy(30);
        List<Completion> plain;
        try (KvCachePool pool = model.newCachePool(4, 32)) {
            plain = run(new PlainDecoder(model, pool), 1, p);
        }
        try (KvCachePool pool = model.newCachePool(4, 32)) {
            SpeculativeDecoder d = new SpeculativeDecoder(model, pool,
                    new ScriptedDrafter(truth(plain), 4, 10, 97, true, 4), StaticTree.paper(), CtcTransform.Mode.FAITHFUL, 0, DecodingMethod.CTC_FAITHFUL);
            for (Completion r : run(d, 2, p)) {
                assertTrue(r.completionTokens() > 0);
            }
        }
    }
}

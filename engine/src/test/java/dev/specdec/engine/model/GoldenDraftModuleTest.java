package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.engine.Fixtures;
import dev.specdec.engine.decode.TokenSampler;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The draft module against the independent reference outputs in {@code fixtures/drafter}. */
class GoldenDraftModuleTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama2-tiny", "llama3-tiny-gqa-bf16"})
    void outputsAndDepthListsMatchReference(String name) throws Exception {
        Path base = Fixtures.model(name);
        JsonNode g = Fixtures.json(Fixtures.dir().resolve("drafter").resolve(name).resolve("golden.json"));
        JsonNode baseGolden = Fixtures.json(base.resolve("golden.json"));
        try (LlamaModel model = LlamaModel.load(base, null);
             DraftModule draft = DraftModule.load(Fixtures.dir().resolve("drafter").resolve(name).resolve("draft.safetensors"), model);
             KvCachePool basePool = model.newCachePool(1, 32);
             KvCachePool draftPool = draft.newCachePool(1, 32);
             KvCache baseCache = basePool.allocate();
             KvCache draftCache = draftPool.allocate();
             NDManager m = NDManager.newBaseManager()) {
            int h = model.config.hiddenSize;
            // Pass 1: base hidden states of the prompt, paired with the next tokens.
            int[] ids = Fixtures.ints(baseGolden.get("input_ids"));
            JsonNode p1 = g.get("pass1");
            NDArray hidden;
            try (ForwardOutput out = model.forward(List.of(SequenceInput.causal(baseCache, ids)), ForwardOutput.LogitsMode.NONE)) {
                hidden = m.create(out.hidden.toFloatArray(), new Shape(1, ids.length, h));
            }
            checkPass(draft, draftCache, hidden, p1, h, m);
            // Pass 2: three accepted tokens later, with the reference's base hidden states.
            JsonNode p2 = g.get("pass2");
            float[] h2 = new float[p2.get("hidden").size() * h];
            for (int i = 0; i < p2.get("hidden").size(); i++) {
                System.arraycopy(Fixtures.floats(p2.get("hidden").get(i)), 0, h2, i * h, h);
            }
            checkPass(draft, draftCache, m.create(h2, new Shape(1, p2.get("hidden").size(), h)), p2, h, m);
        }
    }

    private static void checkPass(DraftModule draft, KvCache cache, NDArray hidden, JsonNode pass, int h, NDManager m) {
        int[] tokens = Fixtures.ints(pass.get("tokens"));
        int[] positions = Fixtures.ints(pass.get("positions"));
        assertEquals(cache.length(), positions[0], "draft cache length before the pass");
        int vocab = draft.base().config.vocabSize;
        int stable = cache.length() + tokens.length;
        float[] last;
        float[] lastF;
        try (ForwardOutput out = draft.forward(hidden, List.of(new SequenceInput(cache, tokens, positions, null)),
                ForwardOutput.LogitsMode.LAST)) {
            float[] f = out.hidden.toFloatArray();
            for (int t = 0; t < tokens.length; t++) {
                float[] ref = Fixtures.floats(pass.get("f").get(t));
                for (int i = 0; i < h; i++) {
                    assertEquals(ref[i], f[t * h + i], 1e-3, "f[" + t + "][" + i + "]");
                }
            }
            last = out.logits.toFloatArray();
            lastF = java.util.Arrays.copyOfRange(f, (tokens.length - 1) * h, tokens.length * h);
        }
        int pos = positions[positions.length - 1];
        for (int d = 0; d < 4; d++) {
            float[] refLogits = Fixtures.floats(pass.get("depth_logits").get(d));
            for (int i = 0; i < vocab; i++) {
                assertEquals(refLogits[i], last[i], 1e-3, "depth " + (d + 1) + " logit " + i);
            }
            int[] top = Fixtures.ints(pass.get("depth_top10").get(d));
            int[] mine = topK(last, 10);
            for (int k = 0; k < 10; k++) {
                assertTrue(top[k] == mine[k] || Math.abs(last[top[k]] - last[mine[k]]) < 1e-3,
                        "depth " + (d + 1) + " rank " + k + ": " + top[k] + " vs " + mine[k]);
            }
            if (d == 3) {
                break;
            }
            // Chain step: the draft's own output and the depth's top-1 token at the next position.
            pos++;
            try (ForwardOutput out = draft.forward(m.create(lastF, new Shape(1, 1, h)),
                    List.of(new SequenceInput(cache, new int[] {mine[0]}, new int[] {pos}, null)), ForwardOutput.LogitsMode.LAST)) {
                last = out.logits.toFloatArray();
                lastF = out.hidden.toFloatArray();
            }
        }
        cache.truncate(stable);   // chain rows are scratch
    }

    /** The compiled draft chain (one call per pass) proposes the reference's depth lists, with their log-probabilities. */
    @ParameterizedTest
    @ValueSource(strings = {"llama2-tiny", "llama3-tiny-gqa-bf16"})
    void compiledChainMatchesReference(String name) throws Exception {
        Path base = Fixtures.model(name);
        JsonNode g = Fixtures.json(Fixtures.dir().resolve("drafter").resolve(name).resolve("golden.json"));
        JsonNode baseGolden = Fixtures.json(base.resolve("golden.json"));
        try (LlamaModel model = LlamaModel.load(base, null);
             DraftModule draft = DraftModule.load(Fixtures.dir().resolve("drafter").resolve(name).resolve("draft.safetensors"), model);
             KvCachePool basePool = model.newCachePool(1, 32);
             KvCachePool draftPool = draft.newCachePool(1, 32);
             KvCache baseCache = basePool.allocate();
             KvCache draftCache = draftPool.allocate();
             NDManager m = NDManager.newBaseManager()) {
            draft.compile();
            int h = model.config.hiddenSize;
            int[] ids = Fixtures.ints(baseGolden.get("input_ids"));
            NDArray hidden;
            try (ForwardOutput out = model.forward(List.of(SequenceInput.causal(baseCache, ids)), ForwardOutput.LogitsMode.NONE)) {
                hidden = m.create(out.hidden.toFloatArray(), new Shape(1, ids.length, h));
            }
            checkChain(draft, draftCache, hidden, g.get("pass1"));
            JsonNode p2 = g.get("pass2");
            float[] h2 = new float[p2.get("hidden").size() * h];
            for (int i = 0; i < p2.get("hidden").size(); i++) {
                System.arraycopy(Fixtures.floats(p2.get("hidden").get(i)), 0, h2, i * h, h);
            }
            checkChain(draft, draftCache, m.create(h2, new Shape(1, p2.get("hidden").size(), h)), p2);
            checkCoupledChain(draft, draftCache, m.create(h2, new Shape(1, p2.get("hidden").size(), h)), p2);
        }
    }

    /**
     * A sampled sequence's chain ranks tokens by tempered log-probability plus the Gumbel noise the
     * verification samples that position with ({@code TokenSampler.gumbel}, position = last draft
     * position + 1 + depth), so its first candidate is the token the base model would sample if it
     * agreed with the draft. Checked over the whole vocabulary, against the Java noise.
     */
    private static void checkCoupledChain(DraftModule draft, KvCache cache, NDArray hidden, JsonNode pass) {
        int[] tokens = Fixtures.ints(pass.get("tokens"));
        int[] positions = Fixtures.ints(pass.get("positions"));
        int vocab = draft.base().config.vocabSize;
        long seed = 0x5EEDL;
        float invT = 1f / 0.8f;
        int depth = 3;
        DraftModule.Proposals p = draft.chain(hidden, List.of(new SequenceInput(cache, tokens, positions, null)), depth,
                vocab, null, new DraftModule.Sampling(new long[] {seed}, new float[] {invT}));
        int last = positions[positions.length - 1];
        for (int d = 0; d < depth; d++) {
            int position = last + 2 + d;
            double best = Double.NEGATIVE_INFINITY;
            double[] key = new double[vocab];
            double sum = 0;
            for (int k = 0; k < vocab; k++) {
                int id = p.ids()[0][d][k];
                key[id] = p.logProbs()[0][d][k] + TokenSampler.gumbel(seed, position, id);
                best = Math.max(best, key[id]);
                sum += Math.exp(p.logProbs()[0][d][k]);
            }
            assertEquals(1.0, sum, 1e-3, "depth " + (d + 1) + ": the tempered log-probabilities of the whole vocabulary");
            for (int k = 0; k < 5; k++) {
                int id = p.ids()[0][d][k];
                assertTrue(k == 0 ? best - key[id] < 1e-4 : key[p.ids()[0][d][k - 1]] - key[id] > -1e-4,
                        "depth " + (d + 1) + " rank " + k + ": token " + id + " out of noisy order");
            }
        }
    }

    private static void checkChain(DraftModule draft, KvCache cache, NDArray hidden, JsonNode pass) {
        int[] tokens = Fixtures.ints(pass.get("tokens"));
        int[] positions = Fixtures.ints(pass.get("positions"));
        int stable = cache.length() + tokens.length;
        DraftModule.Proposals p = draft.chain(hidden, List.of(new SequenceInput(cache, tokens, positions, null)), 4, 10,
                null, null);
        assertEquals(stable, cache.length(), "the chain's rows stay out of the cache");
        assertEquals(4, p.ids()[0].length);
        for (int d = 0; d < 4; d++) {
            float[] ref = Fixtures.floats(pass.get("depth_logits").get(d));
            double max = Double.NEGATIVE_INFINITY;
            for (float v : ref) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (float v : ref) {
                sum += Math.exp(v - max);
            }
            double logZ = max + Math.log(sum);
            int[] top = Fixtures.ints(pass.get("depth_top10").get(d));
            for (int k = 0; k < 10; k++) {
                int mine = p.ids()[0][d][k];
                assertTrue(top[k] == mine || Math.abs(ref[top[k]] - ref[mine]) < 1e-3,
                        "depth " + (d + 1) + " rank " + k + ": " + top[k] + " vs " + mine);
                assertEquals(ref[mine] - logZ, p.logProbs()[0][d][k], 2e-3, "depth " + (d + 1) + " log-prob " + k);
            }
        }
    }

    static int[] topK(float[] v, int k) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        java.util.Arrays.sort(idx, (a, b) -> Float.compare(v[b], v[a]));
        int[] r = new int[k];
        for (int i = 0; i < k; i++) {
            r[i] = idx[i];
        }
        return r;
    }
}

package dev.specdec.engine.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.train.TrainableLlama;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The KV-cache mechanics against full recomputation on a random GQA model: incremental decoding,
 * tree-masked verification, committing an accepted path, batching, and slot compaction.
 */
class ForwardConsistencyTest {
    private static final double TOL = 2e-4;
    private static Path dir;
    private static LlamaModel model;
    private static int vocab;

    @BeforeAll
    static void makeModel() throws Exception {
        dir = Files.createTempDirectory("specdec-model");
        ObjectNode json = ModelConfig.llamaConfigJson(48, 96, 3, 6, 2, 97, 128, 10000, false, 1, 2);
        try (NDManager m = NDManager.newBaseManager()) {
            TrainableLlama.initialize(ModelConfig.parse(json, null), m, 11).save(dir, json);
        }
        model = LlamaModel.load(dir, null);
        vocab = model.config.vocabSize;
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Logits [T][V] of a causal forward of all tokens in a fresh cache. */
    private static float[][] fullLogits(int[] tokens) {
        try (KvCachePool pool = model.newCachePool(1, 16); KvCache c = pool.allocate();
             ForwardOutput out = model.forward(List.of(SequenceInput.causal(c, tokens)), ForwardOutput.LogitsMode.ALL)) {
            return rows(out.logits.toFloatArray(), tokens.length);
        }
    }

    private static float[][] rows(float[] flat, int n) {
        float[][] r = new float[n][vocab];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * vocab, r[i], 0, vocab);
        }
        return r;
    }

    private static void assertClose(float[] a, float[] b, String what) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        assertTrue(max < TOL, what + ": max difference " + max);
    }

    private static final int[] PROMPT = {1, 17, 33, 5, 60, 41, 8, 90, 23, 12};

    @Test
    void incrementalDecodingEqualsFullRecomputation() {
        float[][] full = fullLogits(PROMPT);
        try (KvCachePool pool = model.newCachePool(1, 16); KvCache c = pool.allocate()) {
            int[] head = java.util.Arrays.copyOf(PROMPT, 4);
            try (ForwardOutput out = model.forward(List.of(SequenceInput.causal(c, head)), ForwardOutput.LogitsMode.ALL)) {
                float[][] r = rows(out.logits.toFloatArray(), 4);
                for (int i = 0; i < 4; i++) {
                    assertClose(full[i], r[i], "prefill row " + i);
                }
            }
            for (int i = 4; i < PROMPT.length; i++) {
                try (ForwardOutput out = model.forward(List.of(SequenceInput.causal(c, PROMPT[i])), ForwardOutput.LogitsMode.LAST)) {
                    assertClose(full[i], out.logits.toFloatArray(), "incremental step " + i);
                }
            }
            assertEquals(PROMPT.length, c.length());
        }
    }

    /** A small tree under the prompt: parents[i] is the tree index of node i's parent (-1 = root). */
    private static final int[] TREE_TOKENS = {44, 71, 44, 9, 3, 71, 50};
    private static final int[] PARENTS = {-1, 0, 0, 1, 1, 2, 5};

    private static int[] pathTo(int node) {
        List<Integer> p = new ArrayList<>();
        for (int n = node; n >= 0; n = PARENTS[n]) {
            p.add(0, n);
        }
        return p.stream().mapToInt(Integer::intValue).toArray();
    }

    private static boolean[][] treeMask() {
        int n = TREE_TOKENS.length;
        boolean[][] m = new boolean[n][n];
        for (int i = 0; i < n; i++) {
            for (int a = i; a >= 0; a = PARENTS[a]) {
                m[i][a] = true;
            }
        }
        return m;
    }

    private static int[] treePositions(int base) {
        int[] pos = new int[TREE_TOKENS.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = base + pathTo(i).length - 1;
        }
        return pos;
    }

    @Test
    void treeMaskedForwardEqualsEachBranchAlone() {
        try (KvCachePool pool = model.newCachePool(1, 16); KvCache c = pool.allocate()) {
            model.forward(List.of(SequenceInput.causal(c, PROMPT)), ForwardOutput.LogitsMode.NONE).close();
            float[][] tree;
            try (ForwardOutput out = model.forward(List.of(new SequenceInput(c, TREE_TOKENS,
                    treePositions(PROMPT.length), treeMask())), ForwardOutput.LogitsMode.ALL)) {
                tree = rows(out.logits.toFloatArray(), TREE_TOKENS.length);
            }
            for (int node = 0; node < TREE_TOKENS.length; node++) {
                int[] path = pathTo(node);
                int[] seq = java.util.Arrays.copyOf(PROMPT, PROMPT.length + path.length);
                for (int i = 0; i < path.length; i++) {
                    seq[PROMPT.length + i] = TREE_TOKENS[path[i]];
                }
                float[][] ref = fullLogits(seq);
                assertClose(ref[seq.length - 1], tree[node], "tree node " + node);
            }
        }
    }

    @Test
    void committingAnAcceptedPathEqualsRecomputingIt() {
        int[] accepted = pathTo(6);   // nodes 0, 2, 5, 6: rows are not a prefix of the tree
        try (KvCachePool pool = model.newCachePool(1, 16); KvCache c = pool.allocate()) {
            model.forward(List.of(SequenceInput.causal(c, PROMPT)), ForwardOutput.LogitsMode.NONE).close();
            model.forward(List.of(new SequenceInput(c, TREE_TOKENS, treePositions(PROMPT.length), treeMask())),
                    ForwardOutput.LogitsMode.NONE).close();
            c.keepAppended(PROMPT.length, accepted);
            assertEquals(PROMPT.length + accepted.length, c.length());
            int next = 77;
            float[] got;
            try (ForwardOutput out = model.forward(List.of(SequenceInput.causal(c, next)), ForwardOutput.LogitsMode.LAST)) {
                got = out.logits.toFloatArray();
            }
            int[] seq = new int[PROMPT.length + accepted.length + 1];
            System.arraycopy(PROMPT, 0, seq, 0, PROMPT.length);
            for (int i = 0; i < accepted.length; i++) {
                seq[PROMPT.length + i] = TREE_TOKENS[accepted[i]];
            }
            seq[seq.length - 1] = next;
            assertClose(fullLogits(seq)[seq.length - 1], got, "after commit");
        }
    }

    @Test
    void batchOfDifferentLengthsEqualsEachAlone() {
        int[][] prompts = {{1, 5, 9}, {1, 22, 4, 61, 30, 19, 2}, {1, 8}};
        try (KvCachePool pool = model.newCachePool(2, 4)) {
            List<KvCache> caches = new ArrayList<>();
            List<SequenceInput> in = new ArrayList<>();
            for (int[] p : prompts) {
                KvCache c = pool.allocate();
                caches.add(c);
                in.add(SequenceInput.causal(c, p));
            }
            float[] last;
            try (ForwardOutput out = model.forward(in, ForwardOutput.LogitsMode.LAST)) {
                last = out.logits.toFloatArray();
            }
            for (int i = 0; i < prompts.length; i++) {
                float[][] ref = fullLogits(prompts[i]);
                assertClose(ref[prompts[i].length - 1], java.util.Arrays.copyOfRange(last, i * vocab, (i + 1) * vocab),
                        "batched prefill " + i);
            }
            // One decode step for all three, with different cache lengths.
            int[] next = {13, 14, 15};
            in.clear();
            for (int i = 0; i < 3; i++) {
                in.add(SequenceInput.causal(caches.get(i), next[i]));
            }
            try (ForwardOutput out = model.forward(in, ForwardOutput.LogitsMode.LAST)) {
                last = out.logits.toFloatArray();
            }
            for (int i = 0; i < prompts.length; i++) {
                int[] seq = java.util.Arrays.copyOf(prompts[i], prompts[i].length + 1);
                seq[seq.length - 1] = next[i];
                assertClose(fullLogits(seq)[seq.length - 1], java.util.Arrays.copyOfRange(last, i * vocab, (i + 1) * vocab),
                        "batched step " + i);
            }
            // Releasing the middle cache moves the last one into its slot; it must keep its rows.
            caches.get(1).close();
            assertEquals(1, caches.get(2).slot());
            try (ForwardOutput out = model.forward(List.of(SequenceInput.causal(caches.get(2), 40)), ForwardOutput.LogitsMode.LAST)) {
                assertClose(fullLogits(new int[] {1, 8, 15, 40})[3], out.logits.toFloatArray(), "after compaction");
            }
        }
    }
}

package dev.specdec.engine.speculative;

import ai.djl.ndarray.NDArray;
import dev.specdec.engine.decode.DraftState;
import dev.specdec.engine.decode.SequenceState;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.List;

/**
 * Prompt lookup, the draft-free peer method (llama.cpp's {@code lookup}, vLLM's {@code ngram}
 * proposer): the last {@code n} tokens of the context (prompt and output so far) are looked up
 * earlier in the context, longest {@code n} first and the latest occurrence first, and the tokens
 * that followed them there are proposed as a chain. No model and no training; it pays off where the
 * output repeats its input or itself. A proposal's confidence is unknown, so its tokens carry a fixed
 * prior and the speculative decoder's acceptance tracking calibrates it.
 */
public final class NgramDrafter implements Drafter {
    /**
     * Each proposed token's prior chance of acceptance, given the ones before it were accepted; the
     * adaptive tree's per-request calibration corrects it.
     */
    private static final float PRIOR_LOG_PROB = (float) Math.log(0.8);

    private final int maxN;
    private final int minN;
    private final int depth;

    public NgramDrafter(int maxN, int minN, int depth) {
        if (minN < 1 || maxN < minN || depth < 1) {
            throw new IllegalArgumentException("n-gram sizes must satisfy 1 <= min <= max and depth >= 1");
        }
        this.maxN = maxN;
        this.minN = minN;
        this.depth = depth;
    }

    @Override
    public int depth() {
        return depth;
    }

    @Override
    public void prefill(List<SequenceState> seqs, NDArray promptHidden, DraftBudget budget) {
        seqs.forEach(this::propose);
    }

    @Override
    public void advance(List<SequenceState> seqs, NDArray pathHidden, int[][] nextTokens, DraftBudget budget) {
        seqs.forEach(this::propose);
    }

    private void propose(SequenceState s) {
        int[] continuation = continuation(s.context(), maxN, minN, depth);
        int[][] ids = new int[continuation.length][1];
        float[][] lps = new float[continuation.length][1];
        for (int d = 0; d < continuation.length; d++) {
            ids[d][0] = continuation[d];
            lps[d][0] = PRIOR_LOG_PROB;
        }
        s.attachDraftState(new ProposalsOnly(new DepthLists(ids, lps)));
    }

    /**
     * The tokens after the latest earlier occurrence of the context's last n tokens (the largest n in
     * [minN, maxN] that occurs), at most {@code limit} of them; empty when none occurs.
     */
    static int[] continuation(int[] ctx, int maxN, int minN, int limit) {
        int len = ctx.length;
        for (int n = Math.min(maxN, len - 1); n >= minN; n--) {
            // Candidate starts j < len - n, latest first; the match must leave at least one token after it.
            for (int j = len - n - 1; j >= 0; j--) {
                if (matches(ctx, j, len - n, n)) {
                    int from = j + n;
                    int count = Math.min(limit, len - from);
                    int[] out = new int[count];
                    System.arraycopy(ctx, from, out, 0, count);
                    return out;
                }
            }
        }
        return new int[0];
    }

    private static boolean matches(int[] ctx, int a, int b, int n) {
        for (int i = 0; i < n; i++) {
            if (ctx[a + i] != ctx[b + i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void defer(List<SequenceState> seqs, NDArray pathHidden, int[][] nextTokens) {
        seqs.forEach(s -> s.attachDraftState(ProposalsOnly.NONE));
    }

    @Override
    public DraftState readState(DataInputStream in) throws IOException {
        return ProposalsOnly.read(in);
    }
}

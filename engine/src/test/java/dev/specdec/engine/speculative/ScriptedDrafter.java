package dev.specdec.engine.speculative;

import ai.djl.ndarray.NDArray;
import dev.specdec.engine.decode.DraftState;
import dev.specdec.engine.decode.SequenceState;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A test drafter that knows the true continuation of each sequence and proposes it imperfectly:
 * at each depth the true token sits at a random rank (sometimes missing), and CTC-style frames are
 * injected (a repeated previous token or a blank before the true one), so that acceptance,
 * collapse, renumbering and early stops are all exercised with long accepted paths.
 */
final class ScriptedDrafter implements Drafter {
    private final Map<String, int[]> truth;   // request id -> full expected generated tokens
    private final int depth;
    private final int width;
    private final int vocab;
    private final boolean ctcFrames;
    private final long seed;

    ScriptedDrafter(Map<String, int[]> truth, int depth, int width, int vocab, boolean ctcFrames, long seed) {
        this.truth = truth;
        this.depth = depth;
        this.width = width;
        this.vocab = vocab;
        this.ctcFrames = ctcFrames;
        this.seed = seed;
    }

    /** The scripted proposals, the whole of this drafter's state. */
    private record Script(DepthLists lists) implements DraftState {
        @Override
        public void write(java.io.DataOutputStream out) throws java.io.IOException {
            lists.write(out);
        }
    }

    @Override
    public int depth() {
        return depth;
    }

    @Override
    public void prefill(List<SequenceState> seqs, NDArray promptHidden, DraftBudget budget) {
        seqs.forEach(this::plan);
    }

    @Override
    public void advance(List<SequenceState> seqs, NDArray pathHidden, int[][] nextTokens, DraftBudget budget) {
        seqs.forEach(this::plan);
    }

    private void plan(SequenceState s) {
        int[] t = truth.get(s.id());
        int g = s.generatedCount();
        SplittableRandom rnd = new SplittableRandom(seed * 31 + s.id().hashCode() * 7919L + g);
        int[][] ids = new int[depth][width];
        float[][] lp = new float[depth][width];
        int frame = 0;   // index into the true continuation
        for (int d = 0; d < depth; d++) {
            for (int k = 0; k < width; k++) {
                ids[d][k] = 3 + rnd.nextInt(vocab - 3);
                lp[d][k] = -1f - k;
            }
            int truthToken = g + frame < t.length ? t[g + frame] : 1;
            int roll = rnd.nextInt(10);
            if (ctcFrames && d > 0 && roll == 0) {
                ids[d][0] = 0;                 // blank frame: the true token comes one depth later
                continue;
            }
            if (ctcFrames && d > 0 && roll == 1 && frame > 0) {
                ids[d][0] = t[Math.min(t.length - 1, g + frame - 1)];   // repeated frame
                continue;
            }
            int rank = roll < 7 ? 0 : roll < 9 ? 1 + rnd.nextInt(width - 1) : -1;
            if (rank >= 0) {
                ids[d][rank] = truthToken;
            }
            frame++;
        }
        s.attachDraftState(new Script(new DepthLists(ids, lp)));
    }

    @Override
    public void defer(List<SequenceState> seqs, NDArray pathHidden, int[][] nextTokens) {
        seqs.forEach(s -> s.attachDraftState(new Script(DepthLists.EMPTY)));
    }

    @Override
    public DraftState readState(java.io.DataInputStream in) throws java.io.IOException {
        return new Script(DepthLists.read(in));
    }
}

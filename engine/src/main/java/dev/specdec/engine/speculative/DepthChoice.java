package dev.specdec.engine.speculative;

import dev.specdec.engine.decode.SequenceState;

import java.util.List;

/**
 * The adaptive tree's decision: how many drafted tokens this step verifies for the batch, from 0 (a
 * plain step) to the lists' depth. A sequence's drafted token at depth k is accepted only if every
 * one before it is, so its chance is the product of the per-token acceptances up to k
 * ({@link AcceptanceModel}). The depth with the most expected tokens per millisecond of the step
 * ({@link CostModel}) wins.
 */
final class DepthChoice {
    private DepthChoice() {
    }

    /**
     * Whether drafting for the next step pays at all: a step that verifies one drafted token per
     * sequence (and drafts it) against a plain step, with the first token's acceptance as seen so far.
     */
    static boolean worthDrafting(List<SequenceState> batch, CostModel costs, AcceptanceModel acceptance) {
        int b = batch.size();
        double gain = 0;
        for (SequenceState s : batch) {
            gain += acceptance.firstToken(AcceptanceModel.requestFactor(s));
        }
        return (b + gain) / (costs.verifyMs(b, 2) + costs.draftMs(b, 1)) > b / costs.verifyMs(b, 1);
    }

    static int best(List<SequenceState> batch, CostModel costs, AcceptanceModel acceptance, int maxDepth) {
        int b = batch.size();
        int depth = 0;
        for (SequenceState s : batch) {
            depth = Math.max(depth, Math.min(maxDepth, s.draftState().lists().depth()));
        }
        double[] gain = new double[depth + 1];
        for (SequenceState s : batch) {
            DepthLists lists = s.draftState().lists();
            double r = AcceptanceModel.requestFactor(s);
            double reach = 1;
            for (int k = 1; k <= Math.min(depth, lists.depth()); k++) {
                reach *= acceptance.perToken(Math.exp(lists.logProbs()[k - 1][0]), r);
                gain[k] += reach;
            }
        }
        double draft = costs.draftMs(b, depth);
        double expected = b;
        int best = 0;
        double bestRate = expected / (costs.verifyMs(b, 1) + draft);
        for (int k = 1; k <= depth; k++) {
            expected += gain[k];
            double rate = expected / (costs.verifyMs(b, k + 1) + draft);
            if (rate > bestRate) {
                bestRate = rate;
                best = k;
            }
        }
        return best;
    }
}

package dev.specdec.engine.speculative;

import dev.specdec.engine.decode.SequenceState;

import java.util.List;

/**
 * An extra candidate source for the adaptive CTC tree: where a sequence's context offers an n-gram
 * continuation (prompt lookup, {@link NgramDrafter#continuation}), the step's tree may carry it as a
 * second branch beside the drafted chain, verified in the same pass. It costs no drafting, only
 * verify rows, so it pays where the text repeats itself and the chain guesses wrong.
 *
 * <p>How long the branch may be is decided per step by expected value, as the chain's depth is: the
 * branch's tokens that the chain does not already hold, each accepted with the rate n-gram tokens
 * have shown so far at its position (learnt from every step's committed tokens, apart for greedy and
 * sampled sequences, since a lookup only proposes the most likely continuation), against the verify
 * cost of the rows they add.
 */
final class NgramBranch {
    static final int MAX_LENGTH = 8;
    private static final int MAX_N = 3;
    private static final double PRIOR = 4;
    private static final double PRIOR_RATE = 0.6;
    /**
     * Each added row costs at least this share of the step, whatever the verify curve says: on a
     * memory-bound machine a few more verify rows measure as free, but each still costs host work
     * (tree mask, positions, the acceptance walk), so a branch that is almost never right stays out.
     */
    private static final double MIN_ROW_SHARE = 0.02;

    /** [greedy 0 / sampled 1][position] reached and accepted counts. */
    private final double[][] reached = new double[2][MAX_LENGTH];
    private final double[][] accepted = new double[2][MAX_LENGTH];

    NgramBranch() {
        for (int g = 0; g < 2; g++) {
            for (int j = 0; j < MAX_LENGTH; j++) {
                reached[g][j] = PRIOR;
                accepted[g][j] = PRIOR * PRIOR_RATE;
            }
        }
    }

    /** The sequence's n-gram continuation, at most {@link #MAX_LENGTH} tokens (empty when none). */
    static int[] lookup(SequenceState s) {
        return NgramDrafter.continuation(s.context(), MAX_N, 1, MAX_LENGTH);
    }

    /**
     * How many new nodes each sequence's branch may add this step (0: no branch). {@code shared[i]}
     * of sequence i's continuation the chain already holds, and {@code chainRight[i]} is the chance
     * that the chain's own token where they part is right, in which case the branch's is wrong: a
     * branch token only counts where the chain fails. The step as it is expects {@code expected}
     * tokens for {@code stepMs}, verifying {@code rows} rows per sequence.
     */
    int choose(List<SequenceState> batch, int[][] continuations, int[] shared, double[] chainRight, double expected,
               double stepMs, int rows, int maxRows, CostModel costs) {
        int b = batch.size();
        double[] gain = new double[MAX_LENGTH + 1];
        for (int i = 0; i < b; i++) {
            int g = batch.get(i).params().isGreedy() ? 0 : 1;
            double reach = 1;
            for (int j = 0; j < continuations[i].length; j++) {
                reach *= accepted[g][j] / reached[g][j];
                int added = j - shared[i] + 1;
                if (added >= 1 && added <= MAX_LENGTH) {
                    gain[added] += reach * (1 - chainRight[i]);
                }
            }
        }
        double base = costs.verifyMs(b, rows);
        int best = 0;
        double bestRate = expected / stepMs;
        double extra = 0;
        for (int n = 1; n <= MAX_LENGTH && rows + n <= maxRows; n++) {
            extra += gain[n];
            double added = Math.max(costs.verifyMs(b, rows + n) - base, MIN_ROW_SHARE * n * stepMs);
            double rate = (expected + extra) / (stepMs + added);
            if (rate > bestRate) {
                bestRate = rate;
                best = n;
            }
        }
        return best;
    }

    /**
     * Learns from a step's committed tokens (accepted and bonus), whether or not the branch was in
     * the tree: the continuation proposed the tokens at these positions, and is right for as long
     * as it agrees with them. So the rates keep learning while the branch is not worth verifying.
     */
    void observe(SequenceState s, int[] continuation, int[] committed) {
        int g = s.params().isGreedy() ? 0 : 1;
        int known = Math.min(continuation.length, committed.length);
        int agree = 0;
        while (agree < known && continuation[agree] == committed[agree]) {
            agree++;
        }
        int reachedCount = Math.min(known, agree + 1);
        for (int j = 0; j < reachedCount; j++) {
            reached[g][j]++;
            if (j < agree) {
                accepted[g][j]++;
            }
        }
    }
}

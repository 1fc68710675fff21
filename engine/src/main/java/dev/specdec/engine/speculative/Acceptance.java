package dev.specdec.engine.speculative;

import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.decode.TokenSampler;
import dev.specdec.engine.model.ForwardOutput;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Decides which drafted tokens of a verified tree are accepted, and the bonus token after them.
 *
 * <p>Greedy: the longest path of retained slots where each token equals the base model's argmax at
 * its match parent; the bonus token is the argmax after the path. Sampling (temperature > 0): walk
 * from the root, drawing the next token from the base distribution at the current slot with the
 * randomness of its absolute position, and descend while a child holds the drawn token; the first
 * draw without a matching child is the bonus token. Both emit exactly what plain decoding emits.
 */
public final class Acceptance {

    /** Accepted slots (not counting the root, root-to-leaf order) and the bonus token. */
    public record Result(int[] acceptedSlots, int bonusToken) {
        public int acceptedCount() {
            return acceptedSlots.length;
        }
    }

    private Acceptance() {
    }

    /**
     * The accepted path of sequence {@code b}'s tree in a verify pass: greedy from the pass's argmax
     * ({@code [B * T]}), sampled from its logits at each visited slot, each draw keyed by the slot's
     * absolute position as plain decoding keys it.
     */
    public static Result of(SequenceState s, VerifyTree tree, ForwardOutput out, long[] argmax, int b) {
        if (s.params().isGreedy()) {
            int[] next = new int[tree.size()];
            for (int j = 0; j < next.length; j++) {
                next[j] = (int) argmax[b * out.steps + j];
            }
            return greedy(tree, next);
        }
        int vocab = (int) out.logits.getShape().get(2);
        int rootPosition = s.lastPosition();
        return sampled(tree, slot -> {
            float[] row = out.logits.get(b, slot).toFloatArray();
            return TokenSampler.sample(row, 0, vocab, s.params(), rootPosition + tree.retainedDepth(slot) + 1);
        });
    }

    /** Greedy acceptance; {@code argmax[slot]} is the base model's top token after each slot. */
    public static Result greedy(VerifyTree tree, int[] argmax) {
        List<Integer>[] children = retainedChildren(tree);
        int[] best = longest(tree, children, argmax, 0);
        int last = best.length == 0 ? 0 : best[best.length - 1];
        return new Result(best, argmax[last]);
    }

    /** Longest accepted chain below {@code slot} (ties: the earliest slot wins, as the reference's argmax). */
    private static int[] longest(VerifyTree tree, List<Integer>[] children, int[] argmax, int slot) {
        int[] best = new int[0];
        for (int c : children[slot]) {
            if (tree.tokens[c] != argmax[slot]) {
                continue;
            }
            int[] below = longest(tree, children, argmax, c);
            if (below.length + 1 > best.length) {
                best = new int[below.length + 1];
                best[0] = c;
                System.arraycopy(below, 0, best, 1, below.length);
            }
        }
        return best;
    }

    /**
     * Sample-and-match acceptance. {@code drawAt.apply(slot)} draws the base model's next token after
     * {@code slot} (the caller knows its absolute position); at most one draw per visited slot.
     */
    public static Result sampled(VerifyTree tree, IntFunction<Integer> drawAt) {
        List<Integer>[] children = retainedChildren(tree);
        List<Integer> path = new ArrayList<>();
        int slot = 0;
        while (true) {
            int drawn = drawAt.apply(slot);
            int next = -1;
            for (int c : children[slot]) {
                if (tree.tokens[c] == drawn) {
                    next = c;
                    break;
                }
            }
            if (next < 0) {
                return new Result(path.stream().mapToInt(Integer::intValue).toArray(), drawn);
            }
            path.add(next);
            slot = next;
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Integer>[] retainedChildren(VerifyTree tree) {
        List<Integer>[] children = new List[tree.size()];
        for (int i = 0; i < children.length; i++) {
            children[i] = new ArrayList<>();
        }
        for (int i = 1; i < tree.size(); i++) {
            if (tree.retained[i] && tree.matchParents[i] >= 0) {
                children[tree.matchParents[i]].add(i);
            }
        }
        return children;
    }
}

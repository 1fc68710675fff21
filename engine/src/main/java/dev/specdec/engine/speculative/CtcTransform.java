package dev.specdec.engine.speculative;

import java.util.HashMap;
import java.util.Map;

/**
 * Turns a candidate tree into the tree the base model verifies.
 *
 * <ul>
 * <li>{@link Mode#NONE}: the tree as drafted (Medusa), identical sibling paths merged.</li>
 * <li>{@link Mode#EXACT} (default for the CTC drafter): CTC collapse along every root-to-leaf path —
 * a drafted token equal to the drafted token before it is merged away, blanks are dropped — with the
 * merged and blank slots removed from the tree, positions renumbered by the number of kept
 * ancestors, and identical sibling paths merged. Verification is then exact: the output equals
 * plain decoding.</li>
 * <li>{@link Mode#FAITHFUL}: as the CTC-drafter reference code does it: merged slots are masked out,
 * blank slots stay in the forward pass (seen by their descendants) but can never be accepted, and
 * positions are not renumbered. Reproduces the paper; its output can differ from plain decoding.</li>
 * </ul>
 * The first drafted token is never compared with the root: the root is not a CTC frame. Literal
 * nodes (a grafted n-gram continuation) are never merged or dropped.
 */
public final class CtcTransform {

    public enum Mode { NONE, EXACT, FAITHFUL }

    private CtcTransform() {
    }

    public static VerifyTree apply(CandidateTree tree, Mode mode, int blank) {
        int n = tree.size();
        // 1. Which drafted nodes survive the CTC collapse (on the original drafted tokens).
        boolean[] merged = new boolean[n];
        boolean[] isBlank = new boolean[n];
        for (int i = 1; i < n; i++) {
            int p = tree.parent(i);
            if (mode != Mode.NONE && !tree.isLiteral(i)) {
                merged[i] = p > 0 && tree.token(i) == tree.token(p);
                isBlank[i] = tree.token(i) == blank;
            }
        }
        boolean[] inForward = new boolean[n];
        boolean[] retained = new boolean[n];
        for (int i = 0; i < n; i++) {
            inForward[i] = switch (mode) {
                case NONE -> true;
                case EXACT -> !merged[i] && !isBlank[i];
                case FAITHFUL -> !merged[i];
            };
            retained[i] = inForward[i] && !isBlank[i];
        }
        // 2. Slots: nodes in the forward; the attention parent is the nearest ancestor in the forward.
        int[] slotOf = new int[n];
        int[] canonical = new int[n];
        Map<Long, Integer> siblings = new HashMap<>();
        int slots = 0;
        int[] tokens = new int[n];
        int[] parents = new int[n];
        int[] offsets = new int[n];
        boolean[] keep = new boolean[n];
        int[] match = new int[n];
        for (int i = 0; i < n; i++) {
            slotOf[i] = -1;
            canonical[i] = i;
            if (!inForward[i]) {
                continue;
            }
            int a = tree.parent(i);
            while (a >= 0 && !inForward[a]) {
                a = tree.parent(a);
            }
            int parentSlot = a < 0 ? -1 : slotOf[canonical[a]];
            if (mode != Mode.FAITHFUL && i > 0) {
                // Merge identical siblings: the second copy of a path adds nothing to verify.
                long key = ((long) parentSlot << 32) | (tree.token(i) & 0xFFFFFFFFL);
                Integer first = siblings.putIfAbsent(key, i);
                if (first != null) {
                    canonical[i] = first;
                    continue;
                }
            }
            int s = slots++;
            slotOf[i] = s;
            tokens[s] = tree.token(i);
            parents[s] = parentSlot;
            offsets[s] = mode == Mode.FAITHFUL ? tree.depth(i) : (parentSlot < 0 ? 0 : offsets[parentSlot] + 1);
            keep[s] = retained[i];
            int m = parentSlot;
            while (m >= 0 && !keep[m]) {
                m = parents[m];
            }
            match[s] = m;
        }
        return new VerifyTree(java.util.Arrays.copyOf(tokens, slots), java.util.Arrays.copyOf(parents, slots),
                java.util.Arrays.copyOf(offsets, slots), java.util.Arrays.copyOf(keep, slots),
                java.util.Arrays.copyOf(match, slots));
    }
}

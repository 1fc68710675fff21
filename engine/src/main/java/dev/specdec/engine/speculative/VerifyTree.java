package dev.specdec.engine.speculative;

/**
 * The token tree the base model verifies in one forward call, as slots: slot 0 is the root (the
 * current last token, already accepted), every other slot a drafted token. For each slot: the
 * token fed, its attention parent (the slot tree the mask is built from), its position offset
 * from the root, whether it can be accepted ({@code retained}), and the retained slot whose
 * prediction it must match ({@code matchParent}).
 *
 * <p>In a plain tree every slot is retained and matches its attention parent. The CTC-drafter's
 * faithful transform keeps blank slots in the forward without letting them be accepted.
 */
public final class VerifyTree {
    final int[] tokens;
    final int[] parents;       // attention parent slot, -1 for the root
    final int[] offsets;       // position - root position
    final boolean[] retained;
    final int[] matchParents;  // retained slot whose prediction this slot must equal, -1 for the root

    VerifyTree(int[] tokens, int[] parents, int[] offsets, boolean[] retained, int[] matchParents) {
        this.tokens = tokens;
        this.parents = parents;
        this.offsets = offsets;
        this.retained = retained;
        this.matchParents = matchParents;
    }

    public int size() {
        return tokens.length;
    }

    public int[] tokens() {
        return tokens.clone();
    }

    public int parent(int slot) {
        return parents[slot];
    }

    public int offset(int slot) {
        return offsets[slot];
    }

    public boolean retained(int slot) {
        return retained[slot];
    }

    public int matchParent(int slot) {
        return matchParents[slot];
    }

    public int token(int slot) {
        return tokens[slot];
    }

    /** Number of retained slots from the root (exclusive) down to {@code slot} (inclusive of a retained slot). */
    public int retainedDepth(int slot) {
        int d = 0;
        for (int m = slot; m > 0; m = matchParents[m]) {
            d++;
        }
        return d;
    }

    /** Absolute positions of the slots for a root at {@code rootPosition}. */
    public int[] positions(int rootPosition) {
        int[] p = new int[tokens.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = rootPosition + offsets[i];
        }
        return p;
    }

    /** {@code mask[i][j]}: slot i attends to slot j (j is i or one of its attention ancestors). */
    public boolean[][] mask() {
        int n = tokens.length;
        boolean[][] m = new boolean[n][n];
        for (int i = 0; i < n; i++) {
            for (int a = i; a >= 0; a = parents[a]) {
                m[i][a] = true;
            }
        }
        return m;
    }

    /** Drops slots from the end so the tree has at most {@code maxSlots} slots (parents precede children). */
    public VerifyTree truncate(int maxSlots) {
        if (maxSlots >= tokens.length) {
            return this;
        }
        int n = Math.max(1, maxSlots);
        return new VerifyTree(java.util.Arrays.copyOf(tokens, n), java.util.Arrays.copyOf(parents, n),
                java.util.Arrays.copyOf(offsets, n), java.util.Arrays.copyOf(retained, n),
                java.util.Arrays.copyOf(matchParents, n));
    }

    /** Drops slots whose position offset exceeds {@code maxOffset} (and, necessarily, their subtrees). */
    public VerifyTree limitDepth(int maxOffset) {
        int n = 0;
        int[] map = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            boolean keep = offsets[i] <= maxOffset && (parents[i] < 0 || map[parents[i]] >= 0);
            map[i] = keep ? n++ : -1;
        }
        if (n == tokens.length) {
            return this;
        }
        int[] t = new int[n];
        int[] p = new int[n];
        int[] o = new int[n];
        boolean[] r = new boolean[n];
        int[] mp = new int[n];
        for (int i = 0; i < tokens.length; i++) {
            if (map[i] < 0) {
                continue;
            }
            int j = map[i];
            t[j] = tokens[i];
            p[j] = parents[i] < 0 ? -1 : map[parents[i]];
            o[j] = offsets[i];
            r[j] = retained[i];
            int m = matchParents[i];
            while (m >= 0 && map[m] < 0) {
                m = matchParents[m];
            }
            mp[j] = m < 0 ? -1 : map[m];
        }
        return new VerifyTree(t, p, o, r, mp);
    }
}

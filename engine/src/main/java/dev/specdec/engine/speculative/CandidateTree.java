package dev.specdec.engine.speculative;

import java.util.Arrays;

/**
 * A tree of drafted tokens under the current last token (node 0, the root). Nodes are stored
 * parents-first, so a node's index is larger than its parent's. A node is either a drafter's frame
 * (the CTC transform may merge it into its parent or drop it as a blank) or a literal token (a
 * grafted n-gram continuation: verified as it is).
 */
public final class CandidateTree {
    private int[] tokens;
    private int[] parents;
    private int[] depths;
    private boolean[] literal;
    private int size;

    public CandidateTree(int rootToken, int capacity) {
        tokens = new int[Math.max(1, capacity)];
        parents = new int[tokens.length];
        depths = new int[tokens.length];
        literal = new boolean[tokens.length];
        tokens[0] = rootToken;
        parents[0] = -1;
        size = 1;
    }

    /** Adds a drafter's frame under {@code parent}; returns its index. */
    public int add(int parent, int token) {
        return add(parent, token, false);
    }

    /**
     * Grafts a token sequence under the root as literal tokens, following existing nodes as long as
     * they hold the same tokens and are verified as they are (literal, or a frame the CTC transform
     * keeps: not a blank, not a repeat of its parent); at most {@code maxNew} new nodes.
     *
     * @return how many of the sequence's first tokens the tree already held
     */
    public int graft(int[] sequence, int maxNew, int blank) {
        int node = 0;
        int shared = 0;
        while (shared < sequence.length) {
            int next = keptChild(node, sequence[shared], blank);
            if (next < 0) {
                break;
            }
            node = next;
            shared++;
        }
        for (int j = shared; j < sequence.length && j - shared < maxNew; j++) {
            node = add(node, sequence[j], true);
        }
        return shared;
    }

    private int keptChild(int parent, int token, int blank) {
        for (int i = parent + 1; i < size; i++) {
            if (parents[i] == parent && tokens[i] == token
                    && (literal[i] || (token != blank && (parent == 0 || tokens[parent] != token)))) {
                return i;
            }
        }
        return -1;
    }

    /** Whether the node is a literal token (grafted), which the CTC transform leaves as it is. */
    public boolean isLiteral(int node) {
        return literal[node];
    }

    private int add(int parent, int token, boolean isLiteral) {
        if (parent < 0 || parent >= size) {
            throw new IllegalArgumentException("parent " + parent + " is not in the tree");
        }
        if (size == tokens.length) {
            tokens = Arrays.copyOf(tokens, size * 2);
            parents = Arrays.copyOf(parents, size * 2);
            depths = Arrays.copyOf(depths, size * 2);
            literal = Arrays.copyOf(literal, size * 2);
        }
        tokens[size] = token;
        parents[size] = parent;
        depths[size] = depths[parent] + 1;
        literal[size] = isLiteral;
        return size++;
    }

    public int size() {
        return size;
    }

    public int token(int node) {
        return tokens[node];
    }

    public int parent(int node) {
        return parents[node];
    }

    public int depth(int node) {
        return depths[node];
    }

    public int maxDepth() {
        int d = 0;
        for (int i = 0; i < size; i++) {
            d = Math.max(d, depths[i]);
        }
        return d;
    }
}

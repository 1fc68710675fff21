package dev.specdec.engine.speculative;

import java.util.Arrays;

/**
 * A tree of drafted tokens under the current last token (node 0, the root). Nodes are stored
 * parents-first (breadth-first), so a node's index is larger than its parent's.
 */
public final class CandidateTree {
    private int[] tokens;
    private int[] parents;
    private int[] depths;
    private int size;

    public CandidateTree(int rootToken, int capacity) {
        tokens = new int[Math.max(1, capacity)];
        parents = new int[tokens.length];
        depths = new int[tokens.length];
        tokens[0] = rootToken;
        parents[0] = -1;
        size = 1;
    }

    /** Adds a node under {@code parent}; returns its index. */
    public int add(int parent, int token) {
        if (parent < 0 || parent >= size) {
            throw new IllegalArgumentException("parent " + parent + " is not in the tree");
        }
        if (size == tokens.length) {
            tokens = Arrays.copyOf(tokens, size * 2);
            parents = Arrays.copyOf(parents, size * 2);
            depths = Arrays.copyOf(depths, size * 2);
        }
        tokens[size] = token;
        parents[size] = parent;
        depths[size] = depths[parent] + 1;
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

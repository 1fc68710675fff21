package dev.specdec.engine.speculative;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A fixed tree of choice paths (Medusa style): path {@code [i1, .., id]} is the node at depth d whose
 * token is entry {@code id} of the depth-d list, under the node {@code [i1, .., i(d-1)]}. The
 * CTC-drafter's paper tree ({@link #PAPER}) has 63 paths of depth up to 4 over top-10 lists.
 */
public final class StaticTree implements TreePolicy {

    /** The 63 choice paths of the CTC-drafter reference ({@code model/choices.py}). */
    public static final int[][] PAPER = {
            {0}, {0, 0}, {1}, {0, 1}, {2}, {0, 0, 0}, {1, 0}, {0, 2}, {3}, {0, 3}, {4}, {0, 4}, {2, 0}, {0, 5},
            {0, 0, 1}, {5}, {0, 6}, {6}, {0, 7}, {0, 1, 0}, {1, 1}, {7}, {0, 8}, {0, 0, 2}, {3, 0}, {0, 9}, {8},
            {9}, {1, 0, 0}, {0, 2, 0}, {1, 2}, {0, 0, 3}, {4, 0}, {2, 1}, {0, 0, 4}, {0, 0, 5}, {0, 0, 0, 0},
            {0, 1, 1}, {0, 0, 6}, {0, 3, 0}, {5, 0}, {1, 3}, {0, 0, 7}, {0, 0, 8}, {0, 0, 9}, {6, 0}, {0, 4, 0},
            {1, 4}, {7, 0}, {0, 1, 2}, {2, 0, 0}, {3, 1}, {2, 2}, {8, 0}, {0, 5, 0}, {1, 5}, {1, 0, 1},
            {0, 2, 1}, {9, 0}, {0, 6, 0}, {0, 0, 0, 1}, {1, 6}, {0, 7, 0}};

    private final int[][] choices;   // sorted by (length, lexicographic): parents first
    private final String name;

    public StaticTree(int[][] paths, String name) {
        int[][] sorted = Arrays.stream(paths).map(int[]::clone).toArray(int[][]::new);
        Arrays.sort(sorted, Comparator.<int[]>comparingInt(p -> p.length).thenComparing(Arrays::compare));
        Map<String, Boolean> seen = new HashMap<>();
        for (int[] p : sorted) {
            seen.put(Arrays.toString(p), true);
        }
        for (int[] p : sorted) {
            if (p.length > 1 && !seen.containsKey(Arrays.toString(Arrays.copyOf(p, p.length - 1)))) {
                throw new IllegalArgumentException("tree path " + Arrays.toString(p) + " has no parent path");
            }
        }
        this.choices = sorted;
        this.name = name;
    }

    public static StaticTree paper() {
        return new StaticTree(PAPER, "paper-63");
    }

    /** A single chain of the top-1 tokens, {@code depth} long. */
    public static StaticTree chain(int depth) {
        List<int[]> paths = new ArrayList<>();
        for (int d = 1; d <= depth; d++) {
            paths.add(new int[d]);
        }
        return new StaticTree(paths.toArray(new int[0][]), "chain-" + depth);
    }

    @Override
    public CandidateTree build(int rootToken, DepthLists lists, int maxNodes) {
        CandidateTree tree = new CandidateTree(rootToken, choices.length + 1);
        Map<String, Integer> nodeOf = new HashMap<>();
        nodeOf.put("[]", 0);
        for (int[] p : choices) {
            if (tree.size() - 1 >= maxNodes) {
                break;
            }
            int d = p.length;
            if (d > lists.depth() || p[d - 1] >= lists.width()) {
                continue;
            }
            Integer parent = nodeOf.get(Arrays.toString(Arrays.copyOf(p, d - 1)));
            if (parent == null) {
                continue;   // parent was cut by the node budget or list sizes
            }
            nodeOf.put(Arrays.toString(p), tree.add(parent, lists.tokens()[d - 1][p[d - 1]]));
        }
        return tree;
    }

    @Override
    public int nodeBudget() {
        return choices.length;
    }

    @Override
    public int maxDepth() {
        return choices[choices.length - 1].length;
    }

    @Override
    public String describe() {
        return name + " (" + choices.length + " nodes, depth " + maxDepth() + ")";
    }
}

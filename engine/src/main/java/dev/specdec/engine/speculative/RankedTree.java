package dev.specdec.engine.speculative;

import java.util.PriorityQueue;

/**
 * A tree shaped per step by the drafter's confidence (in the spirit of EAGLE-2): the {@code budget}
 * nodes with the highest path log-probability under the depth lists, found best-first. Confident
 * drafts give deep narrow trees, uncertain ones wide shallow trees, for the same verify cost.
 * Path scores only fall with depth, so the chosen set is always a proper tree.
 */
public final class RankedTree implements TreePolicy {
    private final int budget;
    private final int depth;
    private final int width;

    public RankedTree(int budget, int depth, int width) {
        if (budget < 1 || depth < 1 || width < 1) {
            throw new IllegalArgumentException("tree budget, depth and width must be positive");
        }
        this.budget = budget;
        this.depth = depth;
        this.width = width;
    }

    private record Candidate(double score, int parent, int depth, int rank, long order) {
    }

    @Override
    public CandidateTree build(int rootToken, DepthLists lists, int maxNodes) {
        int limit = Math.min(budget, maxNodes);
        int maxDepth = Math.min(depth, lists.depth());
        int w = Math.min(width, lists.width());
        CandidateTree tree = new CandidateTree(rootToken, limit + 1);
        PriorityQueue<Candidate> queue = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Double.compare(b.score, a.score) : Long.compare(a.order, b.order));
        long order = 0;
        for (int r = 0; r < w && maxDepth > 0; r++) {
            queue.add(new Candidate(lists.logProbs()[0][r], 0, 1, r, order++));
        }
        while (tree.size() - 1 < limit && !queue.isEmpty()) {
            Candidate c = queue.poll();
            int node = tree.add(c.parent, lists.tokens()[c.depth - 1][c.rank]);
            if (c.depth < maxDepth) {
                for (int r = 0; r < w; r++) {
                    queue.add(new Candidate(c.score + lists.logProbs()[c.depth][r], node, c.depth + 1, r, order++));
                }
            }
        }
        return tree;
    }

    @Override
    public int nodeBudget() {
        return budget;
    }

    @Override
    public int maxDepth() {
        return depth;
    }

    @Override
    public String describe() {
        return "ranked-" + budget + " (confidence-ranked, depth <= " + depth + ", top-" + width + ")";
    }
}

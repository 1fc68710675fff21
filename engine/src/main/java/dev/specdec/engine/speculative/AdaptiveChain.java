package dev.specdec.engine.speculative;

/**
 * The default tree, {@code auto}: a chain of the drafter's top-1 tokens whose depth is chosen anew
 * for every step, from 0 (a plain step) up to {@code maxDepth}, to maximise the committed tokens per
 * second of the whole batch. The speculative decoder makes the choice from the {@link CostModel} and
 * the expected acceptance of each request's proposals (the drafter's own probabilities along the
 * chain, calibrated by the request's acceptance so far); the drafter stops its chain by the same
 * rule ({@link DraftBudget}).
 */
public final class AdaptiveChain implements TreePolicy {
    private final int maxDepth;

    public AdaptiveChain(int maxDepth) {
        if (maxDepth < 1) {
            throw new IllegalArgumentException("auto tree needs a depth of at least 1");
        }
        this.maxDepth = maxDepth;
    }

    @Override
    public CandidateTree build(int rootToken, DepthLists lists, int maxNodes) {
        int depth = Math.min(Math.min(maxNodes, maxDepth), lists.depth());
        CandidateTree tree = new CandidateTree(rootToken, depth + 1);
        int parent = 0;
        for (int d = 0; d < depth && lists.width() > 0; d++) {
            parent = tree.add(parent, lists.tokens()[d][0]);
        }
        return tree;
    }

    @Override
    public int nodeBudget() {
        return maxDepth;
    }

    @Override
    public int maxDepth() {
        return maxDepth;
    }

    @Override
    public boolean adaptive() {
        return true;
    }

    @Override
    public String describe() {
        return "auto (a chain of up to " + maxDepth + ", its depth chosen per step)";
    }
}

package dev.specdec.engine.speculative;

/** How the candidate tree is shaped from a drafter's depth lists. */
public interface TreePolicy {

    /** The candidate tree under {@code rootToken} from {@code lists}, at most {@code maxNodes} drafted nodes. */
    CandidateTree build(int rootToken, DepthLists lists, int maxNodes);

    /** Drafted nodes this policy proposes at most (the verify batch is this plus the root). */
    int nodeBudget();

    /** Deepest level used (how many depth lists the drafter must produce). */
    int maxDepth();

    String describe();

    /** Whether the speculative decoder chooses each step's depth ({@link AdaptiveChain}). */
    default boolean adaptive() {
        return false;
    }
}

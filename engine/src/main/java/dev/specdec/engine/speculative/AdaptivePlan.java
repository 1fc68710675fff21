package dev.specdec.engine.speculative;

import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.model.LlamaModel;

import java.util.List;

/**
 * The adaptive tree's side of a speculative step ({@link AdaptiveChain}): what it knows (the
 * measured {@link CostModel}, the calibrated {@link AcceptanceModel}, the n-gram branch's rates),
 * the decisions it makes from that (how deep this step verifies, whether an n-gram branch joins
 * the tree, whether drafting the next step pays, where the drafter stops its chain) and what each
 * step teaches it. The speculative decoder asks; every rule is expected committed tokens per
 * millisecond of the whole batch.
 */
final class AdaptivePlan {
    /**
     * While drafting does not pay, every this many steps drafts anyway, so that the acceptance the
     * decision rests on is seen again (what pays can change as requests come and go).
     */
    private static final int EXPLORE_EVERY = 16;
    private static final int[] NO_TOKENS = new int[0];

    private final CostModel costs;
    private final NgramBranch branch;
    private final int maxDepth;
    private AcceptanceModel acceptance = new AcceptanceModel();
    private int deferredSteps;

    /**
     * @param maxDepth    the deepest chain the tree and the drafter allow
     * @param ngramBranch whether n-gram continuations may join the tree as a second branch
     */
    AdaptivePlan(LlamaModel model, int maxBatch, int maxDepth, boolean ngramBranch) {
        this.costs = new CostModel(model, maxBatch);
        this.branch = ngramBranch ? new NgramBranch() : null;
        this.maxDepth = maxDepth;
    }

    void calibrate() {
        costs.measureAnchors();
    }

    void forgetRequests() {
        acceptance = new AcceptanceModel();
        deferredSteps = 0;
    }

    /** How many drafted tokens this step verifies per sequence ({@link DepthChoice}). */
    int depth(List<SequenceState> batch) {
        return DepthChoice.best(batch, costs, acceptance, maxDepth);
    }

    /**
     * Looks up every sequence's n-gram continuation and grafts it onto its tree when the branch pays
     * for the batch ({@link NgramBranch#choose}). Returns the continuations (empty where a sequence
     * has no room left, or without a branch), which the branch learns from whether verified or not.
     */
    int[][] graftBranches(List<SequenceState> batch, List<CandidateTree> trees, boolean[] room, int maxRows,
                          int blank) {
        int b = batch.size();
        int[][] continuations = new int[b][];
        if (branch == null) {
            java.util.Arrays.fill(continuations, NO_TOKENS);
            return continuations;
        }
        int[] shared = new int[b];
        double[] chainRight = new double[b];
        double expected = b;
        int rows = 1;
        int drafted = 0;
        for (int i = 0; i < b; i++) {
            SequenceState s = batch.get(i);
            continuations[i] = room[i] ? NgramBranch.lookup(s) : NO_TOKENS;
            DepthLists lists = s.draftState().lists();
            int chain = trees.get(i).size() - 1;
            while (shared[i] < Math.min(chain, continuations[i].length)
                    && continuations[i][shared[i]] == lists.tokens()[shared[i]][0]) {
                shared[i]++;
            }
            double r = AcceptanceModel.requestFactor(s);
            expected += acceptance.expected(lists, chain, r);
            // The chance the chain is right through the token where the branch leaves it (none past its end).
            chainRight[i] = shared[i] < chain ? acceptance.reach(lists, shared[i] + 1, r) : 0;
            rows = Math.max(rows, chain + 1);
            drafted = Math.max(drafted, lists.depth());
        }
        double stepMs = costs.verifyMs(b, rows) + costs.draftMs(b, drafted);
        int added = branch.choose(batch, continuations, shared, chainRight, expected, stepMs, rows, maxRows, costs);
        if (added > 0) {
            for (int i = 0; i < b; i++) {
                trees.get(i).graft(continuations[i], added, blank);
            }
        }
        return continuations;
    }

    /**
     * Whether to hold the next step's drafting back (a plain step follows): drafting one token does
     * not pay for this batch, except on every {@link #EXPLORE_EVERY}th such step.
     */
    boolean defer(List<SequenceState> seqs) {
        return !DepthChoice.worthDrafting(seqs, costs, acceptance) && ++deferredSteps % EXPLORE_EVERY != 0;
    }

    /** The stop rule for the drafter's next chain. */
    DraftBudget budget(List<SequenceState> seqs) {
        double[] factors = new double[seqs.size()];
        for (int i = 0; i < factors.length; i++) {
            factors[i] = AcceptanceModel.requestFactor(seqs.get(i));
        }
        return new DraftBudget(costs.stepMs(seqs.size(), maxDepth), acceptance.table(), factors);
    }

    void observeVerify(int batch, int tokens, double ms) {
        costs.observeVerify(batch, tokens, ms);
    }

    void observeDraft(int batch, int depth, double ms) {
        costs.observeDraft(batch, depth, ms);
    }

    /**
     * What a sequence's step teaches: how far the drafter's chain ({@code chainNodes} long) was
     * accepted (the accepted path's agreement with the chain, when an n-gram branch was in the tree
     * too), and how far the n-gram continuation agreed with the committed tokens.
     */
    void observe(SequenceState s, int chainNodes, int branchNodes, int[] continuation, int accepted, int[] committed) {
        DepthLists lists = s.draftState().lists();
        int chainAccepted = accepted;
        if (branchNodes > 0) {
            chainAccepted = 0;
            while (chainAccepted < Math.min(accepted, chainNodes)
                    && lists.tokens()[chainAccepted][0] == committed[chainAccepted]) {
                chainAccepted++;
            }
        }
        // Tokens the branch added count as expected too: a request's factor rates its chain alone.
        s.stats().expectedDraftTokens += acceptance.expected(lists, chainNodes, AcceptanceModel.requestFactor(s))
                + (accepted - chainAccepted);
        acceptance.observe(lists, chainNodes, chainAccepted);
        if (branch != null) {
            branch.observe(s, continuation, committed);
        }
    }
}

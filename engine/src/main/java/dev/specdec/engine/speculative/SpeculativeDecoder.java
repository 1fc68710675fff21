package dev.specdec.engine.speculative;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.specdec.engine.decode.BatchSupport;
import dev.specdec.engine.decode.CacheSnapshots;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.model.ForwardOutput;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.Ops;
import dev.specdec.engine.model.SequenceInput;
import dev.specdec.engine.request.DecodingMethod;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Speculative decoding over a batch of sequences. One {@link #step} runs the method's phases in
 * order: <b>propose</b> (each sequence's candidate tree from its drafter's depth lists, through the
 * CTC transform), <b>verify</b> (all trees through the base model in one forward call with tree
 * masks), <b>accept</b> (the longest path the base model agrees with, plus a bonus token),
 * <b>commit</b> (keep the accepted rows of the KV cache, append the tokens) and <b>advance the
 * drafter</b> (feed it the accepted positions' hidden states for the next step).
 */
public final class SpeculativeDecoder implements Decoder {
    private final LlamaModel model;
    private final KvCachePool pool;
    private final Drafter drafter;
    private final TreePolicy policy;
    private final CtcTransform.Mode transform;
    private final int blank;
    private final DecodingMethod method;
    /** The adaptive tree's costs, calibrations and per-step decisions; null for a static tree. */
    private final AdaptivePlan plan;

    /**
     * A sequence's tree for this step, the cache length its rows were appended at, how many of its
     * candidates came from the drafter's chain and how many from the n-gram branch, and the n-gram
     * continuation looked up this step (empty when none).
     */
    private record Candidate(SequenceState seq, VerifyTree tree, int root, int chainNodes, int branchNodes,
                             int[] continuation) {
    }

    private static final int[] NO_TOKENS = new int[0];

    /** A sequence that goes on after commit: the verify rows of its root and accepted slots, and the tokens after them. */
    private record Committed(SequenceState seq, int[] hiddenRows, int[] nextTokens) {
    }

    public SpeculativeDecoder(LlamaModel model, KvCachePool pool, Drafter drafter, TreePolicy policy,
                              CtcTransform.Mode transform, int blank, DecodingMethod method) {
        if (policy.maxDepth() > drafter.depth()) {
            throw new IllegalArgumentException("tree depth " + policy.maxDepth() + " exceeds the drafter's "
                    + drafter.depth() + " depth lists");
        }
        this.model = model;
        this.pool = pool;
        this.drafter = drafter;
        this.policy = policy;
        this.transform = transform;
        this.blank = blank;
        this.method = method;
        // The n-gram branch rides on the exact CTC method's adaptive tree; the paper's transform stays as published.
        this.plan = policy.adaptive() ? new AdaptivePlan(model, pool.slots(), Math.min(policy.nodeBudget(),
                drafter.depth()), method == DecodingMethod.CTC) : null;
    }

    @Override
    public DecodingMethod method() {
        return method;
    }

    @Override
    public int maxRowsPerStep() {
        return policy.nodeBudget() + 1;
    }

    public TreePolicy policy() {
        return policy;
    }

    @Override
    public void calibrate() {
        if (plan != null) {
            plan.calibrate();
        }
    }

    @Override
    public void forgetRequests() {
        if (plan != null) {
            plan.forgetRequests();
        }
    }

    @Override
    public void prefill(List<SequenceState> fresh) {
        if (fresh.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        List<SequenceState> batch = new ArrayList<>(fresh);
        List<SequenceInput> inputs = BatchSupport.allocateAndFill(pool, batch, false);
        try (ForwardOutput out = model.forward(inputs, ForwardOutput.LogitsMode.LAST)) {
            BatchSupport.appendSampled(batch, out.logits, model.config.vocabSize);
            long t1 = System.nanoTime();
            List<SequenceState> live = new ArrayList<>();
            List<Long> rows = new ArrayList<>();
            for (int b = 0; b < batch.size(); b++) {
                if (!batch.get(b).isFinished()) {
                    live.add(batch.get(b));
                    rows.add((long) b);
                }
            }
            if (!live.isEmpty()) {
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray hidden = live.size() == batch.size() ? out.hidden
                            : Ops.indexGet(out.hidden, new NDIndex("{}", out.manager().create(
                                    rows.stream().mapToLong(Long::longValue).toArray())));
                    drafter.prefill(live, hidden, budget(live));
                }
            }
            long t2 = System.nanoTime();
            for (SequenceState s : batch) {
                s.stats().prefillNanos += (t1 - t0) / batch.size();
                s.stats().draftNanos += (t2 - t1) / batch.size();
            }
        }
    }

    @Override
    public void restore(List<SequenceState> seqs) {
        if (seqs.isEmpty()) {
            return;
        }
        try (ForwardOutput out = model.forward(BatchSupport.allocateAndFill(pool, seqs, true), ForwardOutput.LogitsMode.NONE);
             NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            drafter.prefill(new ArrayList<>(seqs), out.hidden, budget(seqs));
        }
    }

    @Override
    public byte[] exportCaches(SequenceState s) throws IOException {
        return CacheSnapshots.export(s);
    }

    @Override
    public void importCaches(List<SequenceState> seqs, List<byte[]> snapshots) throws IOException {
        CacheSnapshots.importAll(pool, seqs, snapshots, drafter::readState);
    }

    @Override
    public void step(List<SequenceState> active) {
        if (active.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        List<Candidate> batch = propose(active);
        List<Committed> goingOn = new ArrayList<>();
        long verifyNanos;
        long draftNanos;
        long v0 = System.nanoTime();
        try (ForwardOutput out = verify(batch)) {
            if (plan != null) {
                plan.observeVerify(batch.size(), out.steps, (System.nanoTime() - v0) / 1e6);
            }
            long[] argmax = out.logits.argMax(2).toLongArray();                  // [B * T]
            for (int i = 0; i < batch.size(); i++) {
                Candidate c = batch.get(i);
                Committed k = commit(c, Acceptance.of(c.seq(), c.tree(), out, argmax, i), i * out.steps);
                if (k != null) {
                    goingOn.add(k);
                }
            }
            verifyNanos = System.nanoTime() - t0;
            long d0 = System.nanoTime();
            advanceDrafter(goingOn, out);
            draftNanos = System.nanoTime() - d0;
        }
        for (Candidate c : batch) {
            c.seq().stats().verifyNanos += verifyNanos / batch.size();
        }
        for (Committed k : goingOn) {
            k.seq().stats().draftNanos += draftNanos / goingOn.size();
        }
    }

    /**
     * Propose: each sequence's tree from its drafter's lists, in cache-slot order (one contiguous
     * block); with the adaptive tree, no deeper than the depth that pays most for the batch, and
     * with an n-gram branch where one pays ({@link NgramBranch}).
     */
    private List<Candidate> propose(List<SequenceState> active) {
        List<SequenceState> bySlot = new ArrayList<>(active);
        bySlot.sort(Comparator.comparingInt(s -> s.cache().slot()));
        int depth = plan == null ? policy.nodeBudget() : plan.depth(bySlot);
        List<CandidateTree> trees = new ArrayList<>(bySlot.size());
        boolean[] room = new boolean[bySlot.size()];
        for (int i = 0; i < room.length; i++) {
            room[i] = room(bySlot.get(i)) > 0;
            trees.add(candidates(bySlot.get(i), room[i] ? depth : 0));
        }
        int[] chainNodes = trees.stream().mapToInt(t -> t.size() - 1).toArray();
        int[][] continuations = plan == null ? null : plan.graftBranches(bySlot, trees, room, maxRowsPerStep(), blank);
        List<Candidate> batch = new ArrayList<>(bySlot.size());
        for (int i = 0; i < bySlot.size(); i++) {
            SequenceState s = bySlot.get(i);
            int branchNodes = trees.get(i).size() - 1 - chainNodes[i];
            batch.add(new Candidate(s, verifyTree(s, trees.get(i)), s.cache().length(), chainNodes[i], branchNodes,
                    continuations == null ? NO_TOKENS : continuations[i]));
        }
        return batch;
    }

    /** The drafted candidates for a sequence, at most {@code nodeLimit}. */
    private CandidateTree candidates(SequenceState s, int nodeLimit) {
        return policy.build(s.lastToken(), s.draftState().lists(), Math.min(nodeLimit, policy.nodeBudget()));
    }

    /** How many tokens past the last one a tree may reach: the request's remaining budget and the context. */
    private int room(SequenceState s) {
        int remaining = s.remainingBudget();
        int roomInContext = model.config.maxPositions - 1 - s.lastPosition();
        return Math.max(0, Math.min(remaining - 1, roomInContext));
    }

    /** The tree the base model verifies: the CTC transform of the candidates, cut to the room left. */
    private VerifyTree verifyTree(SequenceState s, CandidateTree cand) {
        VerifyTree tree = CtcTransform.apply(cand, transform, blank).limitDepth(room(s));
        // Positions stay inside the context (limitDepth); rows may use the pool's scratch rows.
        return tree.truncate(Math.min(LlamaModel.SCRATCH_ROWS / 2, pool.maxCapacity() - s.cache().length()));
    }

    /** Verify: one base-model forward over every tree (tree masks), with logits at every slot. */
    private ForwardOutput verify(List<Candidate> batch) {
        List<SequenceInput> inputs = new ArrayList<>(batch.size());
        for (Candidate c : batch) {
            VerifyTree t = c.tree();
            inputs.add(new SequenceInput(c.seq().cache(), t.tokens, t.positions(c.seq().lastPosition()), t.mask()));
        }
        return model.forward(inputs, ForwardOutput.LogitsMode.ALL);
    }

    /**
     * Commit: keep the KV rows of the root and the accepted path, append the accepted tokens and the
     * bonus token one by one (stop rules apply to each). Returns what the drafter needs next, or null
     * when the sequence finished. {@code firstRow} is the sequence's first row in the verify output.
     */
    private Committed commit(Candidate c, Acceptance.Result r, int firstRow) {
        SequenceState s = c.seq();
        int n = r.acceptedCount();
        int[] keep = new int[n + 1];
        int[] next = new int[n + 1];
        for (int j = 0; j < n; j++) {
            keep[j + 1] = r.acceptedSlots()[j];
            next[j] = c.tree().tokens[r.acceptedSlots()[j]];
        }
        next[n] = r.bonusToken();
        s.cache().keepAppended(c.root(), keep);
        int emitted = 0;
        for (int token : next) {
            emitted++;
            if (s.append(token)) {
                break;
            }
        }
        s.stats().steps++;
        s.stats().draftedTokens += c.tree().tokens.length - 1;
        s.stats().stepTokens += emitted;
        s.stats().acceptedDraftTokens += Math.min(n, emitted);
        if (plan != null) {
            plan.observe(s, c.chainNodes(), c.branchNodes(), c.continuation(), n, next);
        }
        if (s.isFinished()) {
            return null;
        }
        int[] rows = new int[keep.length];
        for (int j = 0; j < keep.length; j++) {
            rows[j] = firstRow + keep[j];
        }
        return new Committed(s, rows, next);
    }

    /** Advance the drafter: it reads the committed positions' hidden states and proposes the next lists. */
    private void advanceDrafter(List<Committed> goingOn, ForwardOutput out) {
        if (goingOn.isEmpty()) {
            return;
        }
        List<SequenceState> seqs = new ArrayList<>(goingOn.size());
        int[][] tokens = new int[goingOn.size()][];
        for (int i = 0; i < tokens.length; i++) {
            seqs.add(goingOn.get(i).seq());
            tokens[i] = goingOn.get(i).nextTokens();
        }
        if (plan != null && plan.defer(seqs)) {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                drafter.defer(seqs, out.hiddenRows(rows(goingOn)), tokens);
            }
            return;
        }
        // A draft that catches up on held pairs costs more than a step's draft: it says nothing about the latter.
        boolean catchUp = seqs.stream().anyMatch(drafter::holdsPairs);
        long t0 = System.nanoTime();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            drafter.advance(seqs, out.hiddenRows(rows(goingOn)), tokens, budget(seqs));
        }
        if (plan != null && !catchUp) {
            int produced = 0;
            for (SequenceState s : seqs) {
                produced = Math.max(produced, s.draftState().lists().depth());
            }
            plan.observeDraft(seqs.size(), produced, (System.nanoTime() - t0) / 1e6);
        }
    }

    private static int[][] rows(List<Committed> goingOn) {
        return goingOn.stream().map(Committed::hiddenRows).toArray(int[][]::new);
    }

    /** The stop rule for the drafter's next chain: the adaptive tree's, else none. */
    private DraftBudget budget(List<SequenceState> seqs) {
        return plan == null || seqs.isEmpty() ? null : plan.budget(seqs);
    }

    @Override
    public void close() {
        drafter.close();
    }
}

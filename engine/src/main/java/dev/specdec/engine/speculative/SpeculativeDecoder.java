package dev.specdec.engine.speculative;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.specdec.engine.decode.BatchSupport;
import dev.specdec.engine.decode.CacheSnapshots;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.decode.TokenSampler;
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

    /** A sequence's tree for this step and the cache length its rows were appended at. */
    private record Candidate(SequenceState seq, VerifyTree tree, int root) {
    }

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
                    drafter.prefill(live, hidden);
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
            drafter.prefill(new ArrayList<>(seqs), out.hidden);
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
        try (ForwardOutput out = verify(batch)) {
            long[] argmax = out.logits.argMax(2).toLongArray();                  // [B * T]
            for (int i = 0; i < batch.size(); i++) {
                Candidate c = batch.get(i);
                Committed k = commit(c, accept(c, out, argmax, i), i * out.steps);
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

    /** Propose: each sequence's tree from its drafter's lists, in cache-slot order (one contiguous block). */
    private List<Candidate> propose(List<SequenceState> active) {
        List<SequenceState> bySlot = new ArrayList<>(active);
        bySlot.sort(Comparator.comparingInt(s -> s.cache().slot()));
        List<Candidate> batch = new ArrayList<>(bySlot.size());
        for (SequenceState s : bySlot) {
            batch.add(new Candidate(s, tree(s), s.cache().length()));
        }
        return batch;
    }

    /** The tree this step verifies for a sequence, cut to its remaining token budget and the context. */
    VerifyTree tree(SequenceState s) {
        int remaining = s.remainingBudget();
        int roomInContext = model.config.maxPositions - 1 - s.lastPosition();
        int maxOffset = Math.max(0, Math.min(remaining - 1, roomInContext));
        int maxNodes = maxOffset == 0 ? 0 : policy.nodeBudget();
        CandidateTree cand = policy.build(s.lastToken(), s.draftState().lists(), maxNodes);
        VerifyTree tree = CtcTransform.apply(cand, transform, blank).limitDepth(maxOffset);
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

    /** Accept: the drafted path the base model agrees with, and the bonus token after it. */
    private Acceptance.Result accept(Candidate c, ForwardOutput out, long[] argmax, int b) {
        SequenceState s = c.seq();
        VerifyTree tree = c.tree();
        if (s.params().isGreedy()) {
            int[] next = new int[tree.size()];
            for (int j = 0; j < next.length; j++) {
                next[j] = (int) argmax[b * out.steps + j];
            }
            return Acceptance.greedy(tree, next);
        }
        int vocab = model.config.vocabSize;
        int rootPosition = s.lastPosition();
        return Acceptance.sampled(tree, slot -> {
            float[] row = out.logits.get(b, slot).toFloatArray();
            return TokenSampler.sample(row, 0, vocab, s.params(), rootPosition + tree.retainedDepth(slot) + 1);
        });
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
        s.stats().stepTokens += emitted;
        s.stats().acceptedDraftTokens += Math.min(n, emitted);
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
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            drafter.advance(seqs, gatherRows(out, goingOn), tokens);
        }
    }

    /** Hidden states of the committed rows of {@code out.hidden}, padded per sequence: [B', Jmax, H]. */
    private static NDArray gatherRows(ForwardOutput out, List<Committed> goingOn) {
        int jmax = goingOn.stream().mapToInt(k -> k.hiddenRows().length).max().orElse(1);
        long[] idx = new long[goingOn.size() * jmax];
        for (int i = 0; i < goingOn.size(); i++) {
            int[] r = goingOn.get(i).hiddenRows();
            for (int j = 0; j < jmax; j++) {
                idx[i * jmax + j] = r[Math.min(j, r.length - 1)];
            }
        }
        long h = out.hidden.getShape().get(2);
        NDArray flat = Ops.reshape(out.hidden, (long) out.batch * out.steps, h);
        NDArray g = Ops.indexGet(flat, new NDIndex("{}", out.manager().create(idx)));
        return Ops.reshape(g, goingOn.size(), jmax, h);
    }

    @Override
    public void close() {
        drafter.close();
    }
}

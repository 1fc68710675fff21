package dev.specdec.engine.spec;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.specdec.engine.generate.BatchSupport;
import dev.specdec.engine.generate.CacheSnapshots;
import dev.specdec.engine.generate.Decoder;
import dev.specdec.engine.generate.SequenceState;
import dev.specdec.engine.generate.TokenSampler;
import dev.specdec.engine.model.ForwardOutput;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.Ops;
import dev.specdec.engine.model.SequenceInput;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Speculative decoding over a batch of sequences. One step: build each sequence's candidate tree
 * from its drafter's depth lists (propose), apply the CTC transform, run all trees through the base
 * model in one forward call with tree masks (verify), accept the longest matching path plus a bonus
 * token (accept), keep the accepted rows of the KV cache (commit), and feed the accepted positions'
 * hidden states back to the drafter for the next step (draft).
 */
public final class SpeculativeDecoder implements Decoder {
    private final LlamaModel model;
    private final KvCachePool pool;
    private final Drafter drafter;
    private final TreePolicy policy;
    private final CtcTransform.Mode transform;
    private final int blank;
    private final String name;

    public SpeculativeDecoder(LlamaModel model, KvCachePool pool, Drafter drafter, TreePolicy policy,
                              CtcTransform.Mode transform, int blank, String name) {
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
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    public TreePolicy policy() {
        return policy;
    }

    public Drafter drafter() {
        return drafter;
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
            List<Integer> rows = new ArrayList<>();
            for (int b = 0; b < batch.size(); b++) {
                if (!batch.get(b).isFinished()) {
                    live.add(batch.get(b));
                    rows.add(b);
                }
            }
            if (!live.isEmpty()) {
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray hidden = live.size() == batch.size() ? out.hidden
                            : Ops.indexGet(out.hidden, new NDIndex("{}", out.manager().create(
                                    rows.stream().mapToLong(Integer::longValue).toArray())));
                    drafter.prefill(live, hidden);
                }
            }
            long t2 = System.nanoTime();
            for (SequenceState s : batch) {
                s.stats.prefillNanos += (t1 - t0) / batch.size();
                s.stats.draftNanos += (t2 - t1) / batch.size();
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
    public byte[] exportCaches(SequenceState s) throws java.io.IOException {
        return CacheSnapshots.export(s, out -> drafter.exportState(s, out));
    }

    @Override
    public void importCaches(List<SequenceState> seqs, List<byte[]> snapshots) throws java.io.IOException {
        CacheSnapshots.importAll(pool, seqs, snapshots, drafter::importState);
    }

    @Override
    public void step(List<SequenceState> active) {
        if (active.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        List<SequenceState> batch = new ArrayList<>(active);
        batch.sort(Comparator.comparingInt(s -> s.cache.slot()));
        int b = batch.size();
        VerifyTree[] trees = new VerifyTree[b];
        int[] roots = new int[b];
        List<SequenceInput> inputs = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            SequenceState s = batch.get(i);
            roots[i] = s.cache.length();
            trees[i] = propose(s);
            inputs.add(new SequenceInput(s.cache, trees[i].tokens, trees[i].positions(s.lastPosition()), trees[i].mask()));
        }
        List<SequenceState> live = new ArrayList<>();
        List<int[]> liveSlots = new ArrayList<>();
        List<int[]> liveTokens = new ArrayList<>();
        long verifyNanos;
        long draftNanos = 0;
        try (ForwardOutput out = model.forward(inputs, ForwardOutput.LogitsMode.ALL)) {
            int t = out.steps;
            long[] argmax = out.logits.argMax(2).toLongArray();                  // [B * T]
            for (int i = 0; i < b; i++) {
                SequenceState s = batch.get(i);
                Acceptance.Result r = accept(s, trees[i], out, argmax, i, t);
                int[] keep = new int[r.acceptedCount() + 1];
                int[] next = new int[r.acceptedCount() + 1];
                for (int j = 0; j < r.acceptedCount(); j++) {
                    keep[j + 1] = r.acceptedSlots()[j];
                    next[j] = trees[i].tokens[r.acceptedSlots()[j]];
                }
                next[r.acceptedCount()] = r.bonusToken();
                s.cache.keepAppended(roots[i], keep);
                s.stats.steps++;
                int emitted = 0;
                for (int tok : next) {
                    emitted++;
                    if (s.append(tok)) {
                        break;
                    }
                }
                s.stats.stepTokens += emitted;
                s.stats.acceptedDraftTokens += Math.min(r.acceptedCount(), emitted);
                if (!s.isFinished()) {
                    live.add(s);
                    int[] rows = new int[keep.length];
                    for (int j = 0; j < keep.length; j++) {
                        rows[j] = i * t + keep[j];
                    }
                    liveSlots.add(rows);
                    liveTokens.add(next);
                }
            }
            verifyNanos = System.nanoTime() - t0;
            if (!live.isEmpty()) {
                long d0 = System.nanoTime();
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    drafter.advance(live, gatherRows(out, liveSlots), liveTokens.toArray(new int[0][]));
                }
                draftNanos = System.nanoTime() - d0;
            }
        }
        for (SequenceState s : batch) {
            s.stats.verifyNanos += verifyNanos / b;
        }
        for (SequenceState s : live) {
            s.stats.draftNanos += draftNanos / live.size();
        }
    }

    /** The tree this step verifies for a sequence, cut to its remaining token budget and the context. */
    VerifyTree propose(SequenceState s) {
        int remaining = s.remainingBudget();
        int roomInContext = model.config.maxPositions - 1 - s.lastPosition();
        int maxOffset = Math.max(0, Math.min(remaining - 1, roomInContext));
        int maxNodes = maxOffset == 0 ? 0 : policy.nodeBudget();
        CandidateTree cand = policy.build(s.lastToken(), drafter.lists(s), maxNodes);
        VerifyTree tree = CtcTransform.apply(cand, transform, blank).limitDepth(maxOffset);
        // Positions stay inside the context (limitDepth); rows may use the pool's scratch rows.
        return tree.truncate(Math.min(LlamaModel.SCRATCH_ROWS / 2, pool.maxCapacity() - s.cache.length()));
    }

    private Acceptance.Result accept(SequenceState s, VerifyTree tree, ForwardOutput out, long[] argmax, int b, int t) {
        if (s.params().isGreedy()) {
            int[] next = new int[tree.size()];
            for (int j = 0; j < next.length; j++) {
                next[j] = (int) argmax[b * t + j];
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

    /** Hidden states of the given flat rows of {@code out.hidden}, padded per sequence: [B', Jmax, H]. */
    private static NDArray gatherRows(ForwardOutput out, List<int[]> rows) {
        int jmax = rows.stream().mapToInt(r -> r.length).max().orElse(1);
        long[] idx = new long[rows.size() * jmax];
        for (int i = 0; i < rows.size(); i++) {
            int[] r = rows.get(i);
            for (int j = 0; j < jmax; j++) {
                idx[i * jmax + j] = r[Math.min(j, r.length - 1)];
            }
        }
        long h = out.hidden.getShape().get(2);
        NDArray flat = Ops.reshape(out.hidden, (long) out.batch * out.steps, h);
        NDArray g = Ops.indexGet(flat, new NDIndex("{}", out.manager().create(idx)));
        return Ops.reshape(g, rows.size(), jmax, h);
    }

    @Override
    public void release(SequenceState s) {
        s.releaseCaches();
    }

    @Override
    public void close() {
        drafter.close();
    }
}

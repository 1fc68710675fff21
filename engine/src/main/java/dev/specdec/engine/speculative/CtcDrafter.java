package dev.specdec.engine.speculative;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.specdec.engine.decode.CacheSnapshots;
import dev.specdec.engine.decode.DraftState;
import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.model.DraftModule;
import dev.specdec.engine.model.ForwardOutput;
import dev.specdec.engine.model.KvCache;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.Ops;
import dev.specdec.engine.model.SequenceInput;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The CTC-drafter's (and EAGLE-1's) drafting: the draft module consumes the pairs (base hidden state,
 * next token) of all newly accepted positions, then runs a few single-token steps along its own
 * top-1 chain (feeding back its output and the chosen token); each step yields one depth list.
 * Chain rows are scratch: the draft cache keeps only positions the base model accepted.
 */
public final class CtcDrafter implements Drafter {
    private final DraftModule module;
    private final KvCachePool pool;
    private final int depth;
    private final int width;

    /** Pairs held back while drafting does not pay ({@link #defer}); past this many they are consumed anyway. */
    static final int MAX_PENDING = 32;

    /**
     * Per-sequence state: the draft cache (one row per accepted position), the current lists, and the
     * accepted pairs not yet fed to the draft module (hidden states [n, H] on the host, next tokens).
     */
    private static final class State implements DraftState {
        final KvCache cache;
        DepthLists lists;
        float[] pendingHidden = new float[0];
        int[] pendingTokens = new int[0];

        State(KvCache cache) {
            this.cache = cache;
        }

        void hold(float[] rows, int[] tokens) {
            int n = pendingTokens.length;
            pendingTokens = Arrays.copyOf(pendingTokens, n + tokens.length);
            System.arraycopy(tokens, 0, pendingTokens, n, tokens.length);
            int h = rows.length / tokens.length;
            pendingHidden = Arrays.copyOf(pendingHidden, (n + tokens.length) * h);
            System.arraycopy(rows, 0, pendingHidden, n * h, rows.length);
        }

        @Override
        public DepthLists lists() {
            return lists;
        }

        @Override
        public List<KvCache> caches() {
            return List.of(cache);
        }

        @Override
        public void write(DataOutputStream out) throws IOException {
            CacheSnapshots.writeRows(out, cache);
            lists.write(out);
            out.writeInt(pendingTokens.length);
            for (int t : pendingTokens) {
                out.writeInt(t);
            }
            out.writeInt(pendingHidden.length);
            for (float f : pendingHidden) {
                out.writeFloat(f);
            }
        }
    }

    /**
     * @param depth the most depth lists one chain drafts (a {@link DraftBudget} can stop it earlier)
     * @param width candidates kept per depth
     */
    public CtcDrafter(DraftModule module, int maxBatch, int depth, int width) {
        this.module = module;
        this.pool = module.newCachePool(maxBatch, 256);
        this.depth = depth;
        this.width = width;
    }

    @Override
    public int depth() {
        return depth;
    }

    public DraftModule module() {
        return module;
    }

    @Override
    public void prefill(List<SequenceState> seqs, NDArray promptHidden, DraftBudget budget) {
        List<SequenceInput> inputs = new ArrayList<>();
        for (SequenceState s : seqs) {
            State st = new State(pool.allocate());
            s.attachDraftState(st);
            // Pairs (h_t, x_{t+1}) for every cached position: the context shifted by one.
            int[] ctx = s.context();
            inputs.add(SequenceInput.causal(st.cache, Arrays.copyOfRange(ctx, 1, ctx.length)));
        }
        draft(seqs, promptHidden, inputs, budget, depth);
    }

    @Override
    public void advance(List<SequenceState> seqs, NDArray pathHidden, int[][] nextTokens, DraftBudget budget) {
        boolean held = seqs.stream().anyMatch(s -> stateOf(s).pendingTokens.length > 0);
        if (held) {
            // Pairs held back by earlier steps go first: the draft cache must see every accepted position.
            hold(seqs, pathHidden, nextTokens);
            consumePending(seqs, budget, depth);
            return;
        }
        List<SequenceInput> inputs = new ArrayList<>();
        for (int b = 0; b < seqs.size(); b++) {
            inputs.add(SequenceInput.causal(stateOf(seqs.get(b)).cache, nextTokens[b]));
        }
        draft(seqs, pathHidden, inputs, budget, depth);
    }

    /**
     * Holds the accepted pairs back instead of drafting (this step's proposals are none, so the next
     * step is a plain one); a sequence holding {@link #MAX_PENDING} pairs feeds them to its cache.
     */
    @Override
    public void defer(List<SequenceState> seqs, NDArray pathHidden, int[][] nextTokens) {
        hold(seqs, pathHidden, nextTokens);
        List<SequenceState> full = new ArrayList<>();
        for (SequenceState s : seqs) {
            stateOf(s).lists = DepthLists.EMPTY;
            if (stateOf(s).pendingTokens.length >= MAX_PENDING) {
                full.add(s);
            }
        }
        if (!full.isEmpty()) {
            consumePending(full, null, 1);
            full.forEach(s -> stateOf(s).lists = DepthLists.EMPTY);
        }
    }

    @Override
    public boolean holdsPairs(SequenceState s) {
        return stateOf(s).pendingTokens.length > 0;
    }

    /** Appends each sequence's new pairs (its rows of {@code pathHidden [B, Jmax, H]}) to what it holds. */
    private static void hold(List<SequenceState> seqs, NDArray pathHidden, int[][] nextTokens) {
        long jmax = pathHidden.getShape().get(1);
        int h = (int) pathHidden.getShape().get(2);
        float[] rows = pathHidden.toFloatArray();
        for (int b = 0; b < seqs.size(); b++) {
            int n = nextTokens[b].length;
            int from = (int) (b * jmax * h);
            stateOf(seqs.get(b)).hold(Arrays.copyOfRange(rows, from, from + n * h), nextTokens[b]);
        }
    }

    /** Feeds every held pair to the draft caches and drafts at most {@code lists} depth lists from the last one. */
    private void consumePending(List<SequenceState> seqs, DraftBudget budget, int lists) {
        int h = module.config.hiddenSize;
        int tmax = seqs.stream().mapToInt(s -> Math.max(1, stateOf(s).pendingTokens.length)).max().orElse(1);
        float[] grid = new float[seqs.size() * tmax * h];
        List<SequenceInput> inputs = new ArrayList<>();
        for (int b = 0; b < seqs.size(); b++) {
            State st = stateOf(seqs.get(b));
            System.arraycopy(st.pendingHidden, 0, grid, b * tmax * h, st.pendingHidden.length);
            inputs.add(SequenceInput.causal(st.cache, st.pendingTokens));
            st.pendingHidden = new float[0];
            st.pendingTokens = new int[0];
        }
        try (NDManager m = module.base().manager().newSubManager()) {
            draft(seqs, m.create(grid, new ai.djl.ndarray.types.Shape(seqs.size(), tmax, h)), inputs, budget, lists);
        }
    }

    /**
     * Consumes the new pairs, then walks the top-1 chain: up to {@code depth} lists per sequence, or
     * while the budget says one more depth pays (null: always {@code depth}).
     */
    private void draft(List<SequenceState> seqs, NDArray hidden, List<SequenceInput> inputs, DraftBudget budget,
                       int depth) {
        if (module.isCompiled()) {
            DraftModule.Proposals p = module.chain(hidden, inputs, depth, width, budget == null ? null
                    : new DraftModule.ChainStop(budget.stepMs(), budget.acceptance(), budget.requestFactor()),
                    sampling(seqs));
            for (int i = 0; i < seqs.size(); i++) {
                stateOf(seqs.get(i)).lists = new DepthLists(p.ids()[i], p.logProbs()[i]);
            }
            return;
        }
        draftEagerly(seqs, hidden, inputs, budget, depth);
    }

    /** The sequences' seeds and inverse temperatures when any of them samples, else null (all greedy). */
    private static DraftModule.Sampling sampling(List<SequenceState> seqs) {
        if (seqs.stream().allMatch(s -> s.params().isGreedy())) {
            return null;
        }
        long[] seeds = new long[seqs.size()];
        float[] inverse = new float[seqs.size()];
        for (int i = 0; i < seeds.length; i++) {
            seeds[i] = seqs.get(i).params().seed();
            inverse[i] = seqs.get(i).params().isGreedy() ? 0f : (float) (1.0 / seqs.get(i).params().temperature());
        }
        return new DraftModule.Sampling(seeds, inverse);
    }

    /**
     * The chain one forward call per depth (the eager path); the same stop rule as the compiled chain,
     * but greedy drafts only (sampled sequences' drafts are not coupled with the verification's noise).
     */
    private void draftEagerly(List<SequenceState> seqs, NDArray hidden, List<SequenceInput> inputs,
                              DraftBudget budget, int depth) {
        int b = seqs.size();
        int[][][] ids = new int[b][depth][];
        float[][][] lps = new float[b][depth][];
        int produced = depth;
        int[] stable = new int[b];
        int[] lastPos = new int[b];
        for (int i = 0; i < b; i++) {
            stable[i] = inputs.get(i).cache().length() + inputs.get(i).tokens().length;
            lastPos[i] = stable[i] - 1;
        }
        ForwardOutput out = null;
        try (NDManager scratch = module.base().manager().newSubManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            out = module.forward(hidden, inputs, ForwardOutput.LogitsMode.LAST);
            NDArray logits = out.logits;                                                    // [B, V]
            NDArray f = lastRowsOf(out, inputs, scratch);                                   // [B, 1, H]
            double expected = b;
            double[] reach = new double[b];
            java.util.Arrays.fill(reach, 1);
            for (int d = 0; d < depth; d++) {
                TopK top = TopK.of(logits, width);
                double nextGain = 0;
                double reached = 0;
                for (int i = 0; i < b; i++) {
                    ids[i][d] = top.ids[i];
                    lps[i][d] = top.logProbs[i];
                    if (budget != null) {
                        double a = budget.perToken(i, Math.exp(top.logProbs[i][0]));
                        reach[i] *= a;
                        expected += reach[i];
                        reached += reach[i];
                        nextGain += reach[i] * a;
                    }
                }
                if (d == depth - 1 || (budget != null && !budget.worthDeeper(d + 1, expected, reached, nextGain))) {
                    produced = d + 1;
                    break;
                }
                List<SequenceInput> chain = new ArrayList<>(b);
                for (int i = 0; i < b; i++) {
                    chain.add(new SequenceInput(inputs.get(i).cache(), new int[] {top.ids[i][0]},
                            new int[] {lastPos[i] + 1 + d}, null));
                }
                ForwardOutput step = module.forward(f, chain, ForwardOutput.LogitsMode.LAST);
                out.close();   // f and logits of the previous step are consumed
                out = step;
                logits = step.logits;
                f = step.hidden;
            }
        } finally {
            if (out != null) {
                out.close();
            }
            for (int i = 0; i < b; i++) {
                inputs.get(i).cache().truncate(stable[i]);
            }
        }
        for (int i = 0; i < b; i++) {
            stateOf(seqs.get(i)).lists = new DepthLists(Arrays.copyOf(ids[i], produced), Arrays.copyOf(lps[i], produced));
        }
    }

    /** The draft output at each sequence's last real row: [B, 1, H]. */
    private static NDArray lastRowsOf(ForwardOutput out, List<SequenceInput> inputs, NDManager m) {
        long t = out.steps;
        long h = out.hidden.getShape().get(2);
        if (t == 1) {
            return out.hidden;
        }
        long[] rows = new long[inputs.size()];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i * t + inputs.get(i).tokens().length - 1;
        }
        NDArray flat = Ops.reshape(out.hidden, out.batch * t, h);
        return Ops.reshape(Ops.indexGet(flat, new ai.djl.ndarray.index.NDIndex("{}", m.create(rows))), inputs.size(), 1, h);
    }

    private static State stateOf(SequenceState s) {
        return (State) s.draftState();
    }

    @Override
    public DraftState readState(DataInputStream in) throws IOException {
        State st = new State(pool.allocate());
        CacheSnapshots.readRows(in, st.cache);
        st.lists = DepthLists.read(in);
        st.pendingTokens = new int[in.readInt()];
        for (int i = 0; i < st.pendingTokens.length; i++) {
            st.pendingTokens[i] = in.readInt();
        }
        st.pendingHidden = new float[in.readInt()];
        for (int i = 0; i < st.pendingHidden.length; i++) {
            st.pendingHidden[i] = in.readFloat();
        }
        return st;
    }

    @Override
    public void close() {
        pool.close();
        module.close();
    }
}

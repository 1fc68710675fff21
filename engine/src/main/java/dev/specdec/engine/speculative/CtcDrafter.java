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
    private final double chainStopLogProb;

    /** Per-sequence state: the draft cache (one row per accepted position) and the current lists. */
    private static final class State implements DraftState {
        final KvCache cache;
        DepthLists lists;

        State(KvCache cache) {
            this.cache = cache;
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
        }
    }

    /**
     * @param chainStop stop walking the top-1 chain once, for every sequence of the batch, the chain's
     *                  draft probability falls below this (0 = always draft {@code depth} lists): deeper
     *                  proposals would almost never be accepted, and each depth costs a draft forward.
     */
    public CtcDrafter(DraftModule module, int maxBatch, int depth, int width, double chainStop) {
        this.module = module;
        this.pool = module.newCachePool(maxBatch, 256);
        this.depth = depth;
        this.width = width;
        this.chainStopLogProb = chainStop > 0 ? Math.log(chainStop) : Double.NEGATIVE_INFINITY;
    }

    @Override
    public int depth() {
        return depth;
    }

    public DraftModule module() {
        return module;
    }

    @Override
    public void prefill(List<SequenceState> seqs, NDArray promptHidden) {
        List<SequenceInput> inputs = new ArrayList<>();
        for (SequenceState s : seqs) {
            State st = new State(pool.allocate());
            s.attachDraftState(st);
            // Pairs (h_t, x_{t+1}) for every cached position: the context shifted by one.
            int[] ctx = s.context();
            inputs.add(SequenceInput.causal(st.cache, Arrays.copyOfRange(ctx, 1, ctx.length)));
        }
        draft(seqs, promptHidden, inputs);
    }

    @Override
    public void advance(List<SequenceState> seqs, NDArray pathHidden, int[][] nextTokens) {
        List<SequenceInput> inputs = new ArrayList<>();
        for (int b = 0; b < seqs.size(); b++) {
            inputs.add(SequenceInput.causal(stateOf(seqs.get(b)).cache, nextTokens[b]));
        }
        draft(seqs, pathHidden, inputs);
    }

    /** Consumes the new pairs, then walks the top-1 chain to fill {@code depth} lists per sequence. */
    private void draft(List<SequenceState> seqs, NDArray hidden, List<SequenceInput> inputs) {
        if (module.isCompiled()) {
            DraftModule.Proposals p = module.chain(hidden, inputs, depth, width, chainStopLogProb);
            for (int i = 0; i < seqs.size(); i++) {
                stateOf(seqs.get(i)).lists = new DepthLists(p.ids()[i], p.logProbs()[i]);
            }
            return;
        }
        draftEagerly(seqs, hidden, inputs);
    }

    /** The chain one forward call per depth (the eager path). */
    private void draftEagerly(List<SequenceState> seqs, NDArray hidden, List<SequenceInput> inputs) {
        int b = seqs.size();
        int[][][] ids = new int[b][depth][];
        float[][][] lps = new float[b][depth][];
        int produced = depth;
        double[] chainLogProb = new double[b];
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
            for (int d = 0; d < depth; d++) {
                TopK top = TopK.of(logits, width);
                boolean worthGoingOn = false;
                for (int i = 0; i < b; i++) {
                    ids[i][d] = top.ids[i];
                    lps[i][d] = top.logProbs[i];
                    chainLogProb[i] += top.logProbs[i][0];
                    worthGoingOn |= chainLogProb[i] >= chainStopLogProb;
                }
                if (d == depth - 1 || !worthGoingOn) {
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
        return st;
    }

    @Override
    public void close() {
        pool.close();
        module.close();
    }
}

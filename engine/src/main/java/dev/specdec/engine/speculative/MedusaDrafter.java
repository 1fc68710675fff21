package dev.specdec.engine.speculative;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.specdec.engine.decode.DraftState;
import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.model.MedusaHeads;
import dev.specdec.engine.model.Ops;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.List;

/** Medusa drafting: K heads on the base model's hidden state of the last accepted position. */
public final class MedusaDrafter implements Drafter {
    private final MedusaHeads heads;
    private final int width;

    public MedusaDrafter(MedusaHeads heads, int width) {
        this.heads = heads;
        this.width = width;
    }

    @Override
    public int depth() {
        return heads.heads();
    }

    @Override
    public void prefill(List<SequenceState> seqs, NDArray promptHidden, DraftBudget budget) {
        int[] last = new int[seqs.size()];
        for (int b = 0; b < last.length; b++) {
            last[b] = seqs.get(b).totalLength() - 2;   // the last cached position
        }
        propose(seqs, promptHidden, last);
    }

    @Override
    public void advance(List<SequenceState> seqs, NDArray pathHidden, int[][] nextTokens, DraftBudget budget) {
        int[] last = new int[seqs.size()];
        for (int b = 0; b < last.length; b++) {
            last[b] = nextTokens[b].length - 1;
        }
        propose(seqs, pathHidden, last);
    }

    private void propose(List<SequenceState> seqs, NDArray hidden, int[] lastRow) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            long t = hidden.getShape().get(1);
            long h = hidden.getShape().get(2);
            long[] rows = new long[seqs.size()];
            for (int b = 0; b < rows.length; b++) {
                rows[b] = b * t + lastRow[b];
            }
            NDArray flat = Ops.reshape(hidden, seqs.size() * t, h);
            NDArray last = Ops.indexGet(flat, new ai.djl.ndarray.index.NDIndex("{}", hidden.getManager().create(rows)));
            try (NDArray logits = heads.logits(last)) {                          // [B, K, V]
                TopK top = TopK.of(logits, width);                              // rows b * K + k
                int k = heads.heads();
                for (int b = 0; b < seqs.size(); b++) {
                    int[][] ids = new int[k][];
                    float[][] lp = new float[k][];
                    for (int d = 0; d < k; d++) {
                        ids[d] = top.ids[b * k + d];
                        lp[d] = top.logProbs[b * k + d];
                    }
                    seqs.get(b).attachDraftState(new ProposalsOnly(new DepthLists(ids, lp)));
                }
            }
        }
    }

    @Override
    public void defer(List<SequenceState> seqs, NDArray pathHidden, int[][] nextTokens) {
        seqs.forEach(s -> s.attachDraftState(ProposalsOnly.NONE));
    }

    @Override
    public DraftState readState(DataInputStream in) throws IOException {
        return ProposalsOnly.read(in);
    }

    @Override
    public void close() {
        heads.close();
    }
}

package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;

/**
 * Result of a forward call over a batch padded to {@code steps} new tokens per sequence. Rows of
 * pad tokens hold garbage. Closing releases the tensors.
 */
public final class ForwardOutput implements AutoCloseable {
    private final NDManager manager;
    /** Final hidden states after the last RMSNorm: [B, T, H] (what LM and draft heads consume). */
    public final NDArray hidden;
    /** Logits: [B, T, V] for {@link LogitsMode#ALL}, [B, V] for {@link LogitsMode#LAST}, else null. */
    public final NDArray logits;
    public final int batch;
    public final int steps;

    ForwardOutput(NDManager manager, NDArray hidden, NDArray logits, int batch, int steps) {
        this.manager = manager;
        this.hidden = hidden;
        this.logits = logits;
        this.batch = batch;
        this.steps = steps;
    }

    public NDManager manager() {
        return manager;
    }

    /**
     * Hidden states of chosen rows per sequence: {@code rows[i]} are row indices into the flattened
     * {@code [B * T]} output; shorter lists repeat their last row. Returns [rows.length, longest, H].
     */
    public NDArray hiddenRows(int[][] rows) {
        int longest = 1;
        for (int[] r : rows) {
            longest = Math.max(longest, r.length);
        }
        long[] idx = new long[rows.length * longest];
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < longest; j++) {
                idx[i * longest + j] = rows[i][Math.min(j, rows[i].length - 1)];
            }
        }
        long h = hidden.getShape().get(2);
        NDArray flat = Ops.reshape(hidden, (long) batch * steps, h);
        NDArray picked = Ops.indexGet(flat, new NDIndex("{}", manager.create(idx)));
        return Ops.reshape(picked, rows.length, longest, h);
    }

    @Override
    public void close() {
        manager.close();
    }

    /** Which positions get LM-head logits. */
    public enum LogitsMode {
        /** every new token (tree verification, golden tests). */
        ALL,
        /** only the last real new token of each sequence (prefill, plain decoding). */
        LAST,
        /** none (drafter feature collection). */
        NONE
    }
}

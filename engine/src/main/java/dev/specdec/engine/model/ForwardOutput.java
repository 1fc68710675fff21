package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

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

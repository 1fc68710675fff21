package dev.specdec.engine.generate;

import java.util.List;

/**
 * A decoding method over batches of sequences (plain, or speculative with a drafter). A driver
 * admits new sequences with {@link #prefill} and advances the unfinished ones with {@link #step};
 * membership of the batch may change between calls (continuous batching).
 */
public interface Decoder extends AutoCloseable {

    /** Short name for logs and benchmarks ("none", "ctc", ...). */
    String name();

    /**
     * Allocates the sequences' caches, runs their prompts, and appends each one's first generated
     * token. Sequences that finish on that token are left finished.
     */
    void prefill(List<SequenceState> fresh);

    /**
     * Rebuilds the caches of sequences that already have generated tokens (restored after a failure):
     * the prompt and all generated tokens but the last go through the model again; nothing is sampled.
     */
    void restore(List<SequenceState> seqs);

    /**
     * The full tensor state of a sequence's caches (base KV rows and drafter state), for checkpoints
     * of small models that skip the re-prefill on restore.
     */
    byte[] exportCaches(SequenceState s) throws java.io.IOException;

    /** Restores sequences from {@link #exportCaches} snapshots (same model, same decoder kind). */
    void importCaches(List<SequenceState> seqs, List<byte[]> snapshots) throws java.io.IOException;

    /** Advances every sequence of the batch by at least one token (none may be finished). */
    void step(List<SequenceState> active);

    /** Frees a sequence's caches (after it finished or was cancelled). */
    default void release(SequenceState s) {
        s.releaseCaches();
    }

    @Override
    default void close() {
    }
}

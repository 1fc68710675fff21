package dev.specdec.engine.decode;

import dev.specdec.engine.request.DecodingMethod;

import java.io.IOException;
import java.util.List;

/**
 * A decoding method over batches of sequences (plain, or speculative with a drafter). A scheduler
 * admits new sequences with {@link #prefill} and advances the unfinished ones with {@link #step};
 * membership of the batch may change between calls (continuous batching).
 */
public interface Decoder extends AutoCloseable {

    DecodingMethod method();

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
    byte[] exportCaches(SequenceState s) throws IOException;

    /** Restores sequences from {@link #exportCaches} snapshots (same model, same decoder kind). */
    void importCaches(List<SequenceState> seqs, List<byte[]> snapshots) throws IOException;

    /** Advances every sequence of the batch by at least one token (none may be finished). */
    void step(List<SequenceState> active);

    /**
     * Cache rows one step may append per sequence (the verified tree plus its root). A batched step
     * pads every sequence to the largest tree, so a sequence needs this much room left in the context
     * to share a step with others.
     */
    int maxRowsPerStep();

    /**
     * Measures now what the decoder's policy needs to know about this machine (the adaptive tree's
     * verify costs at every batch size up to the largest), so that no decoding step pays for it.
     */
    default void calibrate() {
    }

    /**
     * Forgets what the decoder learnt from the requests it decoded (how often drafts are accepted),
     * keeping what it measured of the machine. After a warm-up: synthetic requests must not teach it.
     */
    default void forgetRequests() {
    }

    /** Frees the sequences' caches (after they finished or were cancelled). */
    default void release(List<SequenceState> seqs) {
        SequenceState.releaseAll(seqs);
    }

    @Override
    default void close() {
    }
}

package dev.specdec.engine.spec;

import ai.djl.ndarray.NDArray;
import dev.specdec.engine.generate.SequenceState;

import java.util.List;

/**
 * Proposes the next tokens of each sequence as depth lists. It sees the base model's post-norm
 * hidden states of every newly accepted token (the pairs a CTC/EAGLE draft module consumes, or just
 * the last one for Medusa heads) and keeps whatever per-sequence state it needs in
 * {@link SequenceState#draftState}.
 */
public interface Drafter extends AutoCloseable {

    String name();

    /** How many depth lists the drafter produces per step. */
    int depth();

    /**
     * After the base model's prefill (or a restore): {@code promptHidden [B, Tmax, H]} holds the hidden
     * states of every cached position of each sequence (its context minus the last token), and each
     * sequence has at least one generated token.
     */
    void prefill(List<SequenceState> seqs, NDArray promptHidden);

    /**
     * After a verification step: {@code pathHidden [B, Jmax, H]} holds the hidden states of each
     * sequence's root and accepted slots (J_b rows), {@code nextTokens[b]} the token after each of them
     * (the accepted tokens, then the bonus token).
     */
    void advance(List<SequenceState> seqs, NDArray pathHidden, int[][] nextTokens);

    /** Writes a sequence's drafter state (caches and current lists) for a full-tensor snapshot. */
    void exportState(SequenceState s, java.io.DataOutputStream out) throws java.io.IOException;

    /** Reads what {@link #exportState} wrote into a fresh sequence. */
    void importState(SequenceState s, java.io.DataInputStream in) throws java.io.IOException;

    /** The current proposals of a sequence. */
    DepthLists lists(SequenceState s);

    @Override
    default void close() {
    }
}

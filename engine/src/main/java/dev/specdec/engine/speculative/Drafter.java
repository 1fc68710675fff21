package dev.specdec.engine.speculative;

import ai.djl.ndarray.NDArray;
import dev.specdec.engine.decode.DraftState;
import dev.specdec.engine.decode.SequenceState;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.List;

/**
 * Proposes the next tokens of each sequence as depth lists. It sees the base model's post-norm
 * hidden states of every newly accepted token (the pairs a CTC/EAGLE draft module consumes, or just
 * the last one for Medusa heads) and keeps what it needs per sequence in a {@link DraftState}.
 */
public interface Drafter extends AutoCloseable {

    /** How many depth lists the drafter produces per step. */
    int depth();

    /**
     * After the base model's prefill (or a restore): {@code promptHidden [B, Tmax, H]} holds the hidden
     * states of every cached position of each sequence (its context minus the last token), and each
     * sequence has at least one generated token. Attaches each sequence's draft state. A drafter that
     * drafts depth by depth stops where {@code budget} says one more depth does not pay (null: its full
     * depth); the others ignore it.
     */
    void prefill(List<SequenceState> seqs, NDArray promptHidden, DraftBudget budget);

    /**
     * After a verification step: {@code pathHidden [B, Jmax, H]} holds the hidden states of each
     * sequence's root and accepted slots (J_b rows), {@code nextTokens[b]} the token after each of them
     * (the accepted tokens, then the bonus token).
     */
    void advance(List<SequenceState> seqs, NDArray pathHidden, int[][] nextTokens, DraftBudget budget);

    /**
     * After a verification step where drafting would not pay: take the accepted pairs as
     * {@link #advance} would, but propose nothing (the next step is a plain one). A drafter with a
     * cache of its own holds the pairs back until it drafts again.
     */
    void defer(List<SequenceState> seqs, NDArray pathHidden, int[][] nextTokens);

    /** Whether the sequence has accepted pairs held back by {@link #defer} (its next draft catches up on them). */
    default boolean holdsPairs(SequenceState s) {
        return false;
    }

    /** Reads a state that {@link DraftState#write} wrote (a full-tensor snapshot), allocating its caches. */
    DraftState readState(DataInputStream in) throws IOException;

    @Override
    default void close() {
    }
}

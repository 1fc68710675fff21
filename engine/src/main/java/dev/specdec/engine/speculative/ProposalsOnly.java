package dev.specdec.engine.speculative;

import dev.specdec.engine.decode.DraftState;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The draft state of a drafter that keeps nothing between steps but its proposals (Medusa's heads
 * read only the last hidden state; prompt lookup reads only the tokens).
 */
record ProposalsOnly(DepthLists lists) implements DraftState {
    static final ProposalsOnly NONE = new ProposalsOnly(DepthLists.EMPTY);

    @Override
    public void write(DataOutputStream out) throws IOException {
        lists.write(out);
    }

    static ProposalsOnly read(DataInputStream in) throws IOException {
        return new ProposalsOnly(DepthLists.read(in));
    }
}

package dev.specdec.engine.decode;

import dev.specdec.engine.model.KvCache;
import dev.specdec.engine.speculative.DepthLists;

import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;

/**
 * What a drafter keeps for one sequence between steps: its current proposals and any caches of its
 * own. Written into full-tensor snapshots by {@link #write}; the drafter that made it reads it back.
 */
public interface DraftState {

    /** The drafter's proposals for the sequence's next positions. */
    DepthLists lists();

    /** Caches this state holds (released with the sequence's base cache, highest slot first). */
    default List<KvCache> caches() {
        return List.of();
    }

    /** Writes the state for a full-tensor snapshot. */
    void write(DataOutputStream out) throws IOException;
}

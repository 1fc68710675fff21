package dev.specdec.engine.decode;

import dev.specdec.engine.model.KvCache;
import dev.specdec.engine.model.KvCachePool;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;

/**
 * Full-tensor snapshots of a sequence's caches: the base KV rows (row count, then the floats), then
 * the drafter's state ({@link DraftState#write}) when the sequence has one.
 */
public final class CacheSnapshots {
    /** Reads a drafter's state back from a snapshot. */
    public interface DraftStateReader {
        DraftState read(DataInputStream in) throws IOException;
    }

    private CacheSnapshots() {
    }

    public static byte[] export(SequenceState s) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writeRows(out, s.cache());
            if (s.draftState() != null) {
                s.draftState().write(out);
            }
        }
        return bytes.toByteArray();
    }

    /** Allocates each sequence's cache and fills it (and its drafter state, when {@code drafter} is given). */
    public static void importAll(KvCachePool pool, List<SequenceState> seqs, List<byte[]> snapshots,
                                 DraftStateReader drafter) throws IOException {
        for (int i = 0; i < seqs.size(); i++) {
            SequenceState s = seqs.get(i);
            s.attachCache(pool.allocate());
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshots.get(i)))) {
                readRows(in, s.cache());
                if (drafter != null) {
                    s.attachDraftState(drafter.read(in));
                }
            }
        }
    }

    public static void writeRows(DataOutputStream out, KvCache cache) throws IOException {
        float[] rows = cache.exportRows();
        out.writeInt(cache.length());
        out.writeInt(rows.length);
        for (float f : rows) {
            out.writeFloat(f);
        }
    }

    public static void readRows(DataInputStream in, KvCache cache) throws IOException {
        int rows = in.readInt();
        int n = in.readInt();
        float[] data = new float[n];
        for (int i = 0; i < n; i++) {
            data[i] = in.readFloat();
        }
        cache.importRows(data, rows);
    }
}

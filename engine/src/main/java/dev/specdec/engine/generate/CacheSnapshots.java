package dev.specdec.engine.generate;

import dev.specdec.engine.model.KvCache;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * Full-tensor snapshots of a sequence's caches: the base KV rows (row count, then the floats), then
 * whatever the decoder's drafter appends.
 */
public final class CacheSnapshots {
    /** Writes or reads a decoder's extra state after the base rows. */
    public interface Extra<T> {
        void accept(T t) throws IOException;
    }

    /** Reads a decoder's extra state for one sequence. */
    public interface ExtraReader {
        void read(SequenceState s, DataInputStream in) throws IOException;
    }

    private CacheSnapshots() {
    }

    public static byte[] export(SequenceState s, Extra<DataOutputStream> extra) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writeRows(out, s.cache);
            extra.accept(out);
        }
        return bytes.toByteArray();
    }

    public static void importAll(dev.specdec.engine.model.KvCachePool pool, java.util.List<SequenceState> seqs,
                                 java.util.List<byte[]> snapshots, ExtraReader extra) throws IOException {
        for (int i = 0; i < seqs.size(); i++) {
            SequenceState s = seqs.get(i);
            s.cache = pool.allocate();
            try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(snapshots.get(i)))) {
                readRows(in, s.cache);
                extra.read(s, in);
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

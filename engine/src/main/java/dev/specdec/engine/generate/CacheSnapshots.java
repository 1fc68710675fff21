package dev.specdec.engine.generate;

import dev.specdec.engine.model.KvCache;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/** Binary form of KV-cache rows inside a cache snapshot: row count, then the floats. */
public final class CacheSnapshots {
    private CacheSnapshots() {
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

package dev.specdec.job.state;

import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Binary helpers shared by the state serializers. */
final class Wire {
    private Wire() {
    }

    static void writeInts(DataOutputView out, int[] v, int count) throws IOException {
        out.writeInt(count);
        for (int i = 0; i < count; i++) {
            out.writeInt(v[i]);
        }
    }

    static int[] readInts(DataInputView in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            throw new IOException("negative array length " + n);
        }
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = in.readInt();
        }
        return v;
    }

    static void writeStrings(DataOutputView out, List<String> v) throws IOException {
        out.writeInt(v.size());
        for (String s : v) {
            writeString(out, s);
        }
    }

    static List<String> readStrings(DataInputView in) throws IOException {
        int n = in.readInt();
        List<String> v = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            v.add(readString(in));
        }
        return Collections.unmodifiableList(v);
    }

    static void writeMap(DataOutputView out, Map<String, String> m) throws IOException {
        out.writeInt(m.size());
        for (Map.Entry<String, String> e : m.entrySet()) {
            writeString(out, e.getKey());
            writeString(out, e.getValue());
        }
    }

    static Map<String, String> readMap(DataInputView in) throws IOException {
        int n = in.readInt();
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            m.put(readString(in), readString(in));
        }
        return Collections.unmodifiableMap(m);
    }

    /** UTF-8 with an int length (writeUTF stops at 64 KiB). */
    static void writeString(DataOutputView out, String s) throws IOException {
        writeBytes(out, s.getBytes(StandardCharsets.UTF_8));
    }

    static String readString(DataInputView in) throws IOException {
        byte[] b = readBytes(in);
        if (b == null) {
            throw new IOException("missing string");
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    static void writeBytes(DataOutputView out, byte[] b) throws IOException {
        if (b == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(b.length);
        out.write(b);
    }

    static byte[] readBytes(DataInputView in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }
}

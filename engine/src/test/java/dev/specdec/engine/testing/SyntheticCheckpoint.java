package dev.specdec.engine.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Writes HuggingFace-style checkpoints for tests: random weights that are exactly representable in
 * the stored dtype (F32, F16 or BF16), in one file or in shards with an index, written byte by byte
 * here (independently of the engine's own writer).
 */
public final class SyntheticCheckpoint {
    public final Map<String, float[]> tensors = new LinkedHashMap<>();
    public final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final SplittableRandom rnd;

    public SyntheticCheckpoint(long seed) {
        this.rnd = new SplittableRandom(seed);
    }

    /** Adds a tensor of values k * 2^-scaleBits with |k| <= 100: exact in F16 and BF16. */
    public float[] random(String name, int scaleBits, long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (rnd.nextInt(201) - 100) * (float) Math.pow(2, -scaleBits);
        }
        tensors.put(name, v);
        shapes.put(name, shape);
        return v;
    }

    /** A gain vector near 1 (exact in the stored dtypes). */
    public float[] gain(String name, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = 1f + (rnd.nextInt(17) - 8) / 32f;
        }
        tensors.put(name, v);
        shapes.put(name, new long[] {n});
        return v;
    }

    public void write(Path dir, String dtype, int shards, ObjectNode config) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper om = new ObjectMapper();
        Files.writeString(dir.resolve("config.json"), om.writeValueAsString(config));
        List<String> names = new ArrayList<>(tensors.keySet());
        if (shards <= 1) {
            writeFile(dir.resolve("model.safetensors"), names, dtype);
            return;
        }
        ObjectNode index = om.createObjectNode();
        index.putObject("metadata").put("total_size", 0);
        ObjectNode map = index.putObject("weight_map");
        int per = (names.size() + shards - 1) / shards;
        for (int s = 0; s < shards; s++) {
            List<String> part = names.subList(Math.min(names.size(), s * per), Math.min(names.size(), (s + 1) * per));
            String file = String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
            writeFile(dir.resolve(file), part, dtype);
            part.forEach(n -> map.put(n, file));
        }
        Files.writeString(dir.resolve("model.safetensors.index.json"), om.writeValueAsString(index));
    }

    private void writeFile(Path file, List<String> names, String dtype) throws IOException {
        int width = dtype.equals("F32") ? 4 : 2;
        ObjectMapper om = new ObjectMapper();
        ObjectNode header = om.createObjectNode();
        long offset = 0;
        Map<String, String> sorted = new TreeMap<>();
        names.forEach(n -> sorted.put(n, n));
        for (String n : sorted.keySet()) {
            ObjectNode t = header.putObject(n);
            t.put("dtype", dtype);
            ArrayNode sh = t.putArray("shape");
            for (long d : shapes.get(n)) {
                sh.add(d);
            }
            long bytes = (long) tensors.get(n).length * width;
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] h = om.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate((int) (8 + h.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        for (String n : sorted.keySet()) {
            for (float f : tensors.get(n)) {
                switch (dtype) {
                    case "F32" -> buf.putFloat(f);
                    case "BF16" -> buf.putShort((short) (Float.floatToIntBits(f) >>> 16));
                    case "F16" -> buf.putShort(toHalf(f));
                    default -> throw new IllegalArgumentException(dtype);
                }
            }
        }
        Files.write(file, buf.array());
    }

    /** Exact float -> binary16 for values representable in binary16 (normal range or zero). */
    static short toHalf(float f) {
        int bits = Float.floatToIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        if ((bits & 0x7FFFFFFF) == 0) {
            return (short) sign;
        }
        int exp = ((bits >>> 23) & 0xFF) - 127 + 15;
        int mant = (bits >>> 13) & 0x3FF;
        if (exp <= 0 || exp >= 31 || (bits & 0x1FFF) != 0) {
            throw new IllegalArgumentException(f + " is not exactly representable as a normal half");
        }
        return (short) (sign | (exp << 10) | mant);
    }
}

package dev.specdec.engine.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads one {@code .safetensors} file through memory maps: the JSON header is parsed once and each
 * tensor's bytes are mapped only when it is read, so multi-gigabyte files never pass through a Java
 * array as a whole. Stored F32, F16 and BF16 tensors are widened to float32 (DJL's native layer
 * cannot hold bfloat16 arrays).
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Largest region mapped at once; a tensor larger than this is widened piece by piece. */
    private static final long MAP_CHUNK_BYTES = 1L << 30;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where one tensor lives inside the file. */
    public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {
        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        public int bytesPerElement() {
            return switch (dtype) {
                case "F32", "I32" -> 4;
                case "F16", "BF16", "I16" -> 2;
                case "F64", "I64" -> 8;
                case "I8", "U8", "BOOL" -> 1;
                default -> throw new IllegalStateException("unknown dtype " + dtype);
            };
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart,
                            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            long size = channel.size();
            if (size < 8) {
                throw new IOException(path + " is not a safetensors file (shorter than 8 bytes)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > 100_000_000L || 8 + headerLen > size) {
                throw new IOException(path + " is not a safetensors file (header length " + headerLen + ")");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(channel, header, 8);
            JsonNode root = JSON.readTree(header.array());
            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                JsonNode t = e.getValue();
                JsonNode shapeNode = t.get("shape");
                long[] shape = new long[shapeNode.size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = shapeNode.get(i).asLong();
                }
                long begin = t.get("data_offsets").get(0).asLong();
                long end = t.get("data_offsets").get(1).asLong();
                TensorInfo info = new TensorInfo(e.getKey(), t.get("dtype").asText(), shape, begin, end);
                if (end < begin || end > dataSize
                        || (end - begin) != info.elementCount() * info.bytesPerElement()) {
                    throw new IOException(path + ": tensor " + e.getKey() + " has inconsistent data offsets");
                }
                tensors.put(e.getKey(), info);
            }
            return new SafetensorsFile(path, channel, dataStart,
                    Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Reads elements {@code [fromElement, fromElement + count)} of a tensor, widened to float32, into
     * a new direct buffer in native order (ready for {@code NDManager.create}).
     */
    public ByteBuffer readFloat32(TensorInfo info, long fromElement, long count) throws IOException {
        if (count * 4 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("read at most 512M elements at once");
        }
        ByteBuffer out = ByteBuffer.allocateDirect((int) (count * 4)).order(ByteOrder.nativeOrder());
        int width = info.bytesPerElement();
        long done = 0;
        while (done < count) {
            long n = Math.min(count - done, MAP_CHUNK_BYTES / width);
            long offset = dataStart + info.begin() + (fromElement + done) * width;
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, offset, n * width);
            mapped.order(ByteOrder.LITTLE_ENDIAN);
            widen(info, mapped, out, (int) n);
            done += n;
        }
        out.flip();
        return out;
    }

    private static void widen(TensorInfo info, ByteBuffer in, ByteBuffer out, int n) {
        switch (info.dtype()) {
            case "F32" -> {
                for (int i = 0; i < n; i++) {
                    out.putFloat(in.getFloat());
                }
            }
            case "BF16" -> {
                for (int i = 0; i < n; i++) {
                    out.putFloat(Float.intBitsToFloat((in.getShort() & 0xFFFF) << 16));
                }
            }
            case "F16" -> {
                for (int i = 0; i < n; i++) {
                    out.putFloat(HalfFloat.toFloat(in.getShort()));
                }
            }
            case "F64" -> {
                for (int i = 0; i < n; i++) {
                    out.putFloat((float) in.getDouble());
                }
            }
            default -> throw new IllegalArgumentException(
                    "tensor " + info.name() + " has dtype " + info.dtype() + "; only F32, F16, BF16 and F64 are supported");
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}

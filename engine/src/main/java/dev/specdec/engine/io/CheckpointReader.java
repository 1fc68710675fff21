package dev.specdec.engine.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.specdec.engine.model.ModelFormatException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * All tensors of a checkpoint folder: a single {@code model.safetensors}, shards listed by
 * {@code model.safetensors.index.json}, or any set of {@code *.safetensors} files. Tensors are read
 * by name, checked against the shape the caller expects, and created as float32 NDArrays.
 */
public final class CheckpointReader implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Tensors bigger than this are widened and uploaded in row blocks (direct buffers stop at 2 GiB). */
    private static final long BLOCK_ELEMENTS = 1L << 28;

    private final List<SafetensorsFile> files = new ArrayList<>();
    private final Map<String, SafetensorsFile> byName = new HashMap<>();

    private CheckpointReader() {
    }

    public static CheckpointReader open(Path dir) throws IOException {
        return open(dir, "model");
    }

    /** Opens {@code <stem>.safetensors}, or the shards of {@code <stem>.safetensors.index.json}. */
    public static CheckpointReader open(Path dir, String stem) throws IOException {
        CheckpointReader r = new CheckpointReader();
        try {
            Path single = dir.resolve(stem + ".safetensors");
            Path index = dir.resolve(stem + ".safetensors.index.json");
            List<Path> paths = new ArrayList<>();
            if (Files.isRegularFile(index)) {
                JsonNode map = JSON.readTree(index.toFile()).get("weight_map");
                if (map == null) {
                    throw new ModelFormatException(index + " has no weight_map");
                }
                Set<String> shardNames = new TreeSet<>();
                map.fields().forEachRemaining(e -> shardNames.add(e.getValue().asText()));
                for (String s : shardNames) {
                    Path p = dir.resolve(s);
                    if (!Files.isRegularFile(p)) {
                        throw new ModelFormatException("shard " + s + " named by " + index.getFileName() + " is missing");
                    }
                    paths.add(p);
                }
            } else if (Files.isRegularFile(single)) {
                paths.add(single);
            } else {
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, stem + "*.safetensors")) {
                    ds.forEach(paths::add);
                }
                paths.sort(null);
            }
            if (paths.isEmpty()) {
                throw new ModelFormatException("no " + stem + ".safetensors (or shards) in " + dir
                        + "; only safetensors checkpoints are supported");
            }
            for (Path p : paths) {
                SafetensorsFile f = SafetensorsFile.open(p);
                r.files.add(f);
                for (String name : f.tensors().keySet()) {
                    r.byName.put(name, f);
                }
            }
            return r;
        } catch (IOException | RuntimeException e) {
            r.close();
            throw e;
        }
    }

    /** Opens one safetensors file (e.g. a drafter's {@code draft.safetensors}). */
    public static CheckpointReader openFile(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException("no safetensors file at " + file);
        }
        CheckpointReader r = new CheckpointReader();
        SafetensorsFile f = SafetensorsFile.open(file);
        r.files.add(f);
        for (String name : f.tensors().keySet()) {
            r.byName.put(name, f);
        }
        return r;
    }

    public boolean has(String name) {
        return byName.containsKey(name);
    }

    public Set<String> names() {
        return new TreeSet<>(byName.keySet());
    }

    public long[] shapeOf(String name) {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new ModelFormatException("tensor " + name + " is missing from the checkpoint");
        }
        return f.tensors().get(name).shape();
    }

    /** {@code count} values of a tensor, from element {@code from} of its flattened data, as float32. */
    public float[] sample(String name, long from, long count) {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new ModelFormatException("tensor " + name + " is missing from the checkpoint");
        }
        try {
            ByteBuffer data = f.readFloat32(f.tensors().get(name), from, count);
            float[] out = new float[(int) count];
            data.order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer().get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("reading tensor " + name + " from " + f.path(), e);
        }
    }

    /** Reads a tensor as float32 and checks that its shape is {@code expected}. */
    public NDArray read(NDManager manager, String name, long... expected) {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new ModelFormatException("tensor " + name + " is missing from the checkpoint");
        }
        SafetensorsFile.TensorInfo info = f.tensors().get(name);
        if (!Arrays.equals(info.shape(), expected)) {
            throw new ModelFormatException("tensor " + name + " has shape " + Arrays.toString(info.shape())
                    + " but the config implies " + Arrays.toString(expected));
        }
        try {
            long n = info.elementCount();
            Shape shape = new Shape(expected);
            if (n <= BLOCK_ELEMENTS) {
                ByteBuffer data = f.readFloat32(info, 0, n);
                return manager.create(data, shape, DataType.FLOAT32);
            }
            long rowElements = n / expected[0];
            long rowsPerBlock = Math.max(1, BLOCK_ELEMENTS / rowElements);
            NDList blocks = new NDList();
            for (long row = 0; row < expected[0]; row += rowsPerBlock) {
                long rows = Math.min(rowsPerBlock, expected[0] - row);
                long[] blockShape = expected.clone();
                blockShape[0] = rows;
                ByteBuffer data = f.readFloat32(info, row * rowElements, rows * rowElements);
                blocks.add(manager.create(data, new Shape(blockShape), DataType.FLOAT32));
            }
            NDArray all = NDArrays.concat(blocks, 0);
            blocks.close();
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException("reading tensor " + name + " from " + f.path(), e);
        }
    }

    @Override
    public void close() {
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (IOException ignored) {
                // read-only maps: nothing to flush
            }
        }
        files.clear();
    }
}

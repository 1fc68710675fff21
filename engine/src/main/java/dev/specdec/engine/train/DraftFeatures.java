package dev.specdec.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.model.ForwardOutput;
import dev.specdec.engine.model.KvCache;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.SequenceInput;
import dev.specdec.engine.progress.ProgressLine;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a draft model learns from: the frozen base model run over fixed-length token windows with
 * teacher forcing. Per window position t it stores the token, the base model's post-norm hidden
 * state H[t] and its greedy prediction argmax(W_lm H[t]) (the token it would emit after t). Stored
 * on disk ({@code tokens.i32}, {@code labels.i32}, {@code hidden.f32}, little-endian) so a resumed
 * training run does not recompute them; read back window by window.
 */
public final class DraftFeatures implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path dir;
    private final int windows;
    private final int length;
    private final int hidden;
    private final FileChannel tokens;
    private final FileChannel labels;
    private final FileChannel states;

    private DraftFeatures(Path dir, int windows, int length, int hidden) throws IOException {
        this.dir = dir;
        this.windows = windows;
        this.length = length;
        this.hidden = hidden;
        this.tokens = FileChannel.open(dir.resolve("tokens.i32"), StandardOpenOption.READ);
        this.labels = FileChannel.open(dir.resolve("labels.i32"), StandardOpenOption.READ);
        this.states = FileChannel.open(dir.resolve("hidden.f32"), StandardOpenOption.READ);
    }

    public int windows() {
        return windows;
    }

    public int length() {
        return length;
    }

    /** Opens features written earlier, or returns null if {@code dir} holds none for this model. */
    public static DraftFeatures open(Path dir, String modelId) throws IOException {
        Path meta = dir.resolve("meta.json");
        if (!Files.isRegularFile(meta)) {
            return null;
        }
        JsonNode m = JSON.readTree(meta.toFile());
        if (!m.path("model").asText().equals(modelId)) {
            return null;
        }
        return new DraftFeatures(dir, m.get("windows").asInt(), m.get("length").asInt(), m.get("hidden").asInt());
    }

    /**
     * Runs {@code model} over {@code windowTokens} (each of {@code length} ids) in batches and writes
     * the features to {@code dir}; {@code meta.json} is written last so an interrupted run is redone.
     * {@code progress} counts windows.
     */
    public static DraftFeatures collect(LlamaModel model, List<int[]> windowTokens, int length, Path dir,
                                        String modelId, int batch, PrintStream log, ProgressLine progress)
            throws IOException {
        Files.createDirectories(dir);
        int h = model.config.hiddenSize;
        long t0 = System.nanoTime();
        try (FileChannel tok = FileChannel.open(dir.resolve("tokens.i32"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
             FileChannel lab = FileChannel.open(dir.resolve("labels.i32"), StandardOpenOption.CREATE,
                     StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
             FileChannel hid = FileChannel.open(dir.resolve("hidden.f32"), StandardOpenOption.CREATE,
                     StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
             KvCachePool pool = model.newCachePool(batch, length)) {
            for (int start = 0; start < windowTokens.size(); start += batch) {
                int n = Math.min(batch, windowTokens.size() - start);
                List<KvCache> caches = new ArrayList<>();
                List<SequenceInput> in = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    KvCache c = pool.allocate();
                    caches.add(c);
                    in.add(SequenceInput.causal(c, windowTokens.get(start + i)));
                }
                try (ForwardOutput out = model.forward(in, ForwardOutput.LogitsMode.ALL)) {
                    long[] argmax = out.logits.argMax(2).toLongArray();
                    float[] hs = out.hidden.toFloatArray();
                    ByteBuffer tb = ByteBuffer.allocate(n * length * 4).order(ByteOrder.LITTLE_ENDIAN);
                    ByteBuffer lb = ByteBuffer.allocate(n * length * 4).order(ByteOrder.LITTLE_ENDIAN);
                    ByteBuffer hb = ByteBuffer.allocate(n * length * h * 4).order(ByteOrder.LITTLE_ENDIAN);
                    for (int i = 0; i < n; i++) {
                        for (int t = 0; t < length; t++) {
                            tb.putInt(windowTokens.get(start + i)[t]);
                            lb.putInt((int) argmax[i * length + t]);
                        }
                    }
                    for (float f : hs) {
                        hb.putFloat(f);
                    }
                    tok.write(tb.flip());
                    lab.write(lb.flip());
                    hid.write(hb.flip());
                }
                for (int i = caches.size() - 1; i >= 0; i--) {
                    caches.get(i).close();
                }
                progress.update(start + n);
                if (log != null && (start / batch) % 20 == 0) {
                    double secs = (System.nanoTime() - t0) / 1e9;
                    log.printf(Locale.ROOT, "features: %d/%d windows (%.0f tokens/s)%n", start + n, windowTokens.size(),
                            (start + n) * (double) length / secs);
                }
            }
        }
        ObjectNode meta = JSON.createObjectNode();
        meta.put("model", modelId);
        meta.put("windows", windowTokens.size());
        meta.put("length", length);
        meta.put("hidden", h);
        Files.writeString(dir.resolve("meta.json"), JSON.writeValueAsString(meta));
        return new DraftFeatures(dir, windowTokens.size(), length, h);
    }

    /** One window's data as tensors in {@code m}: tokens [T] (int64), labels [T] (int64), hidden [T, H]. */
    public record Window(NDArray tokens, NDArray labels, NDArray hidden, int[] tokenIds, int[] labelIds) {
    }

    public Window read(NDManager m, int index) throws IOException {
        int[] tok = readInts(tokens, index);
        int[] lab = readInts(labels, index);
        ByteBuffer hb = ByteBuffer.allocate(length * hidden * 4).order(ByteOrder.LITTLE_ENDIAN);
        readFully(states, hb, (long) index * length * hidden * 4);
        hb.flip();
        float[] hs = new float[length * hidden];
        hb.asFloatBuffer().get(hs);
        return new Window(m.create(tok).toType(DataType.INT64, false), m.create(lab).toType(DataType.INT64, false),
                m.create(hs, new Shape(length, hidden)), tok, lab);
    }

    private int[] readInts(FileChannel ch, int index) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length * 4).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, b, (long) index * length * 4);
        b.flip();
        int[] r = new int[length];
        b.asIntBuffer().get(r);
        return r;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                throw new IOException("feature file is truncated");
            }
        }
    }

    public Path directory() {
        return dir;
    }

    @Override
    public void close() throws IOException {
        tokens.close();
        labels.close();
        states.close();
    }
}

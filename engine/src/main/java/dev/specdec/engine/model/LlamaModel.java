package dev.specdec.engine.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.specdec.engine.io.CheckpointReader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A LLaMA-family causal language model (LLaMA 2/3/3.1, Mistral, Qwen2) loaded from a HuggingFace
 * checkpoint folder, running on DJL's PyTorch engine in float32.
 *
 * <p>{@link #forward} takes a batch of sequences, each with new tokens at explicit positions and an
 * optional tree mask, attends to each sequence's {@link KvCache}, appends the new rows to it, and
 * returns post-norm hidden states and logits. It is thread-confined: one caller at a time.
 */
public final class LlamaModel implements AutoCloseable {
    public final ModelConfig config;
    public final Path directory;
    private final NDManager manager;
    private final Device device;
    private final NDArray embed;          // [V, H]
    private final NDArray lmHead;         // [V, H] (the embedding table when tied)
    private final NDArray finalNormGain;  // [H]
    private final RmsNorm norm;
    private final NDArray rotateHalf;     // [headDim, headDim]
    private final DecoderLayer[] layers;
    /** The forward as one TorchScript call, or null for the eager forward ({@link #compile}). */
    private CompiledForward compiled;

    private LlamaModel(ModelConfig config, Path directory, NDManager manager, NDArray embed, NDArray lmHead,
                       NDArray finalNormGain, RmsNorm norm, NDArray rotateHalf, DecoderLayer[] layers) {
        this.config = config;
        this.directory = directory;
        this.manager = manager;
        this.device = manager.getDevice();
        this.embed = embed;
        this.lmHead = lmHead;
        this.finalNormGain = finalNormGain;
        this.norm = norm;
        this.rotateHalf = rotateHalf;
        this.layers = layers;
    }

    /** Loads a checkpoint folder onto the given device (CPU when null). */
    public static LlamaModel load(Path dir, Device device) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException("model folder " + dir + " does not exist");
        }
        ModelConfig c = ModelConfig.load(dir);
        NDManager manager = NDManager.newBaseManager(device == null ? Device.cpu() : device);
        try (CheckpointReader r = CheckpointReader.open(dir)) {
            String p = r.has("model.embed_tokens.weight") ? "model." : "";
            long h = c.hiddenSize;
            NDArray embed = r.read(manager, p + "embed_tokens.weight", c.vocabSize, h);
            NDArray lmHead;
            if (r.has("lm_head.weight") && !c.tieWordEmbeddings) {
                lmHead = r.read(manager, "lm_head.weight", c.vocabSize, h);
            } else if (c.tieWordEmbeddings) {
                lmHead = embed;
            } else {
                throw new ModelFormatException("tensor lm_head.weight is missing from the checkpoint"
                        + " (config.json says tie_word_embeddings is false)");
            }
            NDArray norm = r.read(manager, p + "norm.weight", h);
            RmsNorm eps = new RmsNorm(manager, h, c.rmsNormEps);
            NDArray rot = rotateHalfMatrix(manager, c.headDim);
            DecoderLayer[] layers = new DecoderLayer[c.numLayers];
            for (int i = 0; i < c.numLayers; i++) {
                String l = p + "layers." + i + ".";
                try (NDManager tmp = manager.newSubManager()) {
                    layers[i] = readLayer(c, r, tmp, l, eps, rot, true);
                    layers[i].attachTo(manager);
                }
            }
            return new LlamaModel(c, dir, manager, embed, lmHead, norm, eps, rot, layers);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Reads one decoder layer with HF tensor names under {@code prefix} (e.g. {@code model.layers.3.}).
     * Temporary tensors live in {@code tmp}; the caller attaches the result to a long-lived manager.
     */
    static DecoderLayer readLayer(ModelConfig c, CheckpointReader r, NDManager tmp, String prefix, RmsNorm eps,
                                  NDArray rot, boolean inputNorm) {
        long h = c.hiddenSize;
        String a = prefix + "self_attn.";
        String f = prefix + "mlp.";
        NDArray inNorm = inputNorm ? r.read(tmp, prefix + "input_layernorm.weight", h) : null;
        NDArray q = r.read(tmp, a + "q_proj.weight", c.qDim(), h);
        NDArray k = r.read(tmp, a + "k_proj.weight", c.kvDim(), h);
        NDArray v = r.read(tmp, a + "v_proj.weight", c.kvDim(), h);
        NDArray bq = c.qkvBias ? r.read(tmp, a + "q_proj.bias", c.qDim()) : null;
        NDArray bk = c.qkvBias ? r.read(tmp, a + "k_proj.bias", c.kvDim()) : null;
        NDArray bv = c.qkvBias ? r.read(tmp, a + "v_proj.bias", c.kvDim()) : null;
        NDArray o = r.read(tmp, a + "o_proj.weight", h, c.qDim());
        NDArray bo = c.outputBias ? r.read(tmp, a + "o_proj.bias", h) : null;
        NDArray postNorm = r.read(tmp, prefix + "post_attention_layernorm.weight", h);
        NDArray gate = r.read(tmp, f + "gate_proj.weight", c.intermediateSize, h);
        NDArray up = r.read(tmp, f + "up_proj.weight", c.intermediateSize, h);
        NDArray down = r.read(tmp, f + "down_proj.weight", h, c.intermediateSize);
        NDArray bGate = c.mlpBias ? r.read(tmp, f + "gate_proj.bias", c.intermediateSize) : null;
        NDArray bUp = c.mlpBias ? r.read(tmp, f + "up_proj.bias", c.intermediateSize) : null;
        NDArray bDown = c.mlpBias ? r.read(tmp, f + "down_proj.bias", h) : null;
        return DecoderLayer.fromCheckpoint(c, tmp, eps, rot, inNorm, q, k, v, bq, bk, bv, o, bo, postNorm,
                gate, up, down, bGate, bUp, bDown);
    }

    static NDArray rotateHalfMatrix(NDManager m, int headDim) {
        int half = headDim / 2;
        float[] r = new float[headDim * headDim];
        for (int j = 0; j < half; j++) {
            r[(j + half) * headDim + j] = -1f;     // out[j] = -x[j + half]
            r[j * headDim + j + half] = 1f;        // out[j + half] = x[j]
        }
        return m.create(r, new Shape(headDim, headDim));
    }

    /**
     * Rows a cache may hold beyond the context: a verified token tree occupies more rows than
     * positions, and a batch pads every sequence to its largest tree, so a sequence near the end of
     * the context still needs room for scratch rows that are never committed.
     */
    public static final int SCRATCH_ROWS = 256;

    /** A cache pool for this model: {@code slots} sequences of up to the model's context (plus scratch rows). */
    public KvCachePool newCachePool(int slots, int initialRows) {
        return new KvCachePool(manager, device, config.numLayers, config.numKvHeads, config.headDim,
                slots, initialRows, config.maxPositions + SCRATCH_ROWS);
    }

    /**
     * Runs new tokens of a batch of sequences through the model and appends their keys and values
     * to each sequence's cache (whose length grows by that sequence's token count).
     */
    public ForwardOutput forward(List<SequenceInput> batch, ForwardOutput.LogitsMode mode) {
        if (batch.isEmpty()) {
            throw new IllegalArgumentException("empty batch");
        }
        KvCachePool pool = batch.get(0).cache().pool();
        BatchLayout layout = new BatchLayout(batch, config.rope, config.numHeads, config.numKvHeads, config.headDim,
                config.slidingWindow, pool, config.vocabSize);
        NDManager out = manager.newSubManager();
        if (compiled != null) {
            try {
                ForwardOutput o = compiled.forward(out, layout, pool, mode);
                BatchLayout.commitRows(batch);
                return o;
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
        }
        // Every intermediate tensor is created inside the scope and freed when it closes; only the
        // returned hidden states and logits are kept, owned by the output's manager.
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            AttentionBatch ab = new AttentionBatch(out, layout, config.numHeads, config.numKvHeads, config.headDim);
            NDArray x = Ops.embedding(ab.tokens, embed);
            for (int l = 0; l < layers.length; l++) {
                layers[l].forward(x, ab, pool, l);
            }
            BatchLayout.commitRows(batch);
            NDArray hidden = Ops.mul(norm.normalize(x), finalNormGain);                  // [B, T, H]
            NDArray logits = switch (mode) {
                case ALL -> Ops.linear(hidden, lmHead, null);                               // [B, T, V]
                case LAST -> Ops.linear(lastRows(hidden, ab.realSteps, out), lmHead, null); // [B, V]
                case NONE -> null;
            };
            NDScope.unregister(hidden);
            if (logits != null) {
                NDScope.unregister(logits);
            }
            return new ForwardOutput(out, hidden, logits, ab.batch, ab.steps);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    static NDArray lastRows(NDArray hidden, int[] realSteps, NDManager tmp) {
        long b = realSteps.length;
        long t = hidden.getShape().get(1);
        long[] rows = new long[realSteps.length];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i * t + realSteps[i] - 1;
        }
        if (b == 1 && t == 1) {
            return Ops.reshape(hidden, 1, hidden.getShape().get(2));
        }
        NDArray flat = Ops.reshape(hidden, b * t, hidden.getShape().get(2));
        return Ops.indexGet(flat, new ai.djl.ndarray.index.NDIndex("{}", tmp.create(rows)));
    }

    /**
     * Switches this model to the compiled forward: the whole pass as one TorchScript call, written
     * from this model's shape and loaded through DJL (the source compiles here). Outputs agree with
     * the eager forward to float rounding.
     */
    public void compile() throws IOException {
        if (compiled == null) {
            compiled = CompiledForward.of(config, manager, rotateHalf, embed, lmHead, finalNormGain, layers);
        }
    }

    /**
     * Bytes of weights one decoded token reads (every layer's projections and biases, the final
     * norm, the LM head and one embedding row): what memory bandwidth must deliver per token.
     */
    public long weightBytesPerToken() {
        long floats = embed.getShape().get(1) + lmHead.size() + finalNormGain.size();
        for (DecoderLayer l : layers) {
            for (NDArray w : l.compiledWeights()) {
                floats += w.size();
            }
        }
        return floats * 4;
    }

    /** Whether {@link #forward} runs compiled. */
    public boolean isCompiled() {
        return compiled != null;
    }

    public NDManager manager() {
        return manager;
    }

    public Device device() {
        return device;
    }

    /** Token embedding table [V, H] (shared with the draft module). */
    public NDArray embeddings() {
        return embed;
    }

    /** LM head [V, H] (shared with the draft module). */
    public NDArray lmHead() {
        return lmHead;
    }

    NDArray rotateHalf() {
        return rotateHalf;
    }

    @Override
    public void close() {
        if (compiled != null) {
            compiled.close();
            compiled = null;
        }
        manager.close();
    }
}

package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.specdec.engine.io.CheckpointReader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The draft module of EAGLE-1 and the CTC-drafter: {@code z = fc([E(x_{t+1}) ; h_t])} (2H -> H, with
 * bias), then one LLaMA decoder layer without input norm (RoPE at absolute positions, causal, its
 * own KV cache), no final norm; the output {@code f_t} predicts the base's next hidden state and
 * the base model's LM head (shared, frozen) turns it into draft logits.
 *
 * <p>Weights use the EAGLE-1 / CTC-drafter tensor names ({@code fc.weight}, {@code fc.bias},
 * {@code layers.0.self_attn.q_proj.weight}, ..., {@code layers.0.post_attention_layernorm.weight},
 * optionally {@code embed_tokens.weight}), so published drafters of that layout load.
 */
public final class DraftModule implements AutoCloseable {
    public final ModelConfig config;      // the draft layer's architecture
    private final LlamaModel base;
    private final NDManager manager;
    private final NDArray fcWeight;       // [H, 2H]
    private final NDArray fcBias;         // [H] or null
    private final NDArray embed;          // [V, H]
    private final DecoderLayer layer;
    private final NDArray rotateHalf;
    /** The whole draft chain as one TorchScript call, or null (eager) until {@link #compile}. */
    private CompiledDraftChain compiled;

    /**
     * When a compiled chain stops: {@code stepMs[k]} is a step's cost when it verifies k drafted
     * tokens; a drafted token of top-1 probability p is accepted with chance
     * {@code acceptance[(int) (p * acceptance.length)] * requestFactor[i]}.
     */
    public record ChainStop(double[] stepMs, double[] acceptance, double[] requestFactor) {
    }

    /**
     * The sampling of the sequences a chain drafts for: each sequence's seed and 1 / temperature (0 for
     * greedy), so that sampled drafts use the verification's own noise (see {@code ForwardSource#draftChain}).
     */
    public record Sampling(long[] seeds, float[] inverseTemperature) {
    }

    /**
     * A draft chain's proposals per sequence: for each depth, the top-k token ids and their draft
     * log-probabilities, best first.
     */
    public record Proposals(int[][][] ids, float[][][] logProbs) {
        static Proposals of(long[] ids, float[] lps, int batch, int depth, int width) {
            int[][][] i = new int[batch][depth][width];
            float[][][] p = new float[batch][depth][width];
            for (int b = 0; b < batch; b++) {
                for (int d = 0; d < depth; d++) {
                    for (int k = 0; k < width; k++) {
                        int at = (b * depth + d) * width + k;
                        i[b][d][k] = (int) ids[at];
                        p[b][d][k] = lps[at];
                    }
                }
            }
            return new Proposals(i, p);
        }
    }

    private DraftModule(ModelConfig config, LlamaModel base, NDManager manager, NDArray fcWeight, NDArray fcBias,
                        NDArray embed, DecoderLayer layer, NDArray rotateHalf) {
        this.config = config;
        this.base = base;
        this.manager = manager;
        this.fcWeight = fcWeight;
        this.fcBias = fcBias;
        this.embed = embed;
        this.layer = layer;
        this.rotateHalf = rotateHalf;
    }

    /**
     * Loads a draft module for {@code base} from a safetensors file. The draft layer's architecture
     * comes from {@code config.json} beside the file when there is one, else from the base model.
     */
    public static DraftModule load(Path weights, LlamaModel base) throws IOException {
        Path cfg = weights.toAbsolutePath().getParent().resolve("config.json");
        ModelConfig config = Files.isRegularFile(cfg) ? ModelConfig.load(cfg.getParent()) : base.config;
        if (config.hiddenSize != base.config.hiddenSize) {
            throw new ModelFormatException("drafter hidden size " + config.hiddenSize + " differs from the base model's "
                    + base.config.hiddenSize);
        }
        NDManager manager = base.manager().newSubManager();
        try (CheckpointReader r = CheckpointReader.openFile(weights)) {
            String p = r.has("model.fc.weight") ? "model." : "";
            long h = config.hiddenSize;
            NDArray fcW = r.read(manager, p + "fc.weight", h, 2 * h);
            NDArray fcB = r.has(p + "fc.bias") ? r.read(manager, p + "fc.bias", h) : null;
            NDArray embed = r.has(p + "embed_tokens.weight")
                    ? ownEmbedding(r, manager, p + "embed_tokens.weight", weights, base) : base.embeddings();
            RmsNorm eps = new RmsNorm(manager, h, config.rmsNormEps);
            NDArray rot = LlamaModel.rotateHalfMatrix(manager, config.headDim);
            DecoderLayer layer;
            try (NDManager tmp = manager.newSubManager()) {
                layer = LlamaModel.readLayer(config, r, tmp, p + "layers.0.", eps, rot, false);
                layer.attachTo(manager);
            }
            return new DraftModule(config, base, manager, fcW, fcB, embed, layer, rot);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * The drafter's own copy of the token embedding ({@code train-drafter --with-embeddings}); it must
     * have the base model's shape, or the drafter belongs to another model.
     */
    private static NDArray ownEmbedding(CheckpointReader r, NDManager manager, String name, Path weights, LlamaModel base) {
        long[] expected = {base.config.vocabSize, base.config.hiddenSize};
        long[] found = r.shapeOf(name);
        if (!Arrays.equals(expected, found)) {
            throw new ModelFormatException(weights + " carries " + name + " of shape " + Arrays.toString(found)
                    + " but the base model's embedding is " + Arrays.toString(expected) + ": the drafter was made for"
                    + " another base model; train one for this model with `specdec train-drafter`");
        }
        return r.read(manager, name, expected);
    }

    /** A cache pool for the draft layer (one layer). */
    public KvCachePool newCachePool(int slots, int initialRows) {
        return new KvCachePool(manager, base.device(), 1, config.numKvHeads, config.headDim, slots, initialRows,
                base.config.maxPositions + LlamaModel.SCRATCH_ROWS);
    }

    /**
     * Runs draft positions for a batch: {@code hidden [B, T, H]} are the input states (base hidden
     * states, or the draft's own outputs along a chain), {@code inputs} give each sequence's next tokens,
     * positions and draft cache (padded to T). Appends to the draft caches. Returns draft outputs
     * {@code f} as {@code hidden} and LM-head logits per {@code mode}.
     */
    public ForwardOutput forward(NDArray hidden, List<SequenceInput> inputs, ForwardOutput.LogitsMode mode) {
        KvCachePool pool = inputs.get(0).cache().pool();
        NDManager out = manager.newSubManager();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            BatchLayout layout = new BatchLayout(inputs, config.rope, config.numHeads, config.numKvHeads, config.headDim,
                    0, pool, base.config.vocabSize);
            AttentionBatch ab = new AttentionBatch(out, layout, config.numHeads, config.numKvHeads, config.headDim);
            NDArray e = Ops.embedding(ab.tokens, embed);                                      // [B, T, H]
            NDArray x = Ops.linear(Ops.cat(2, e, hidden), fcWeight, fcBias);                     // [B, T, H]
            layer.forward(x, ab, pool, 0);
            BatchLayout.commitRows(inputs);
            NDArray logits = switch (mode) {
                case ALL -> Ops.linear(x, base.lmHead(), null);
                case LAST -> Ops.linear(LlamaModel.lastRows(x, ab.realSteps, out), base.lmHead(), null);
                case NONE -> null;
            };
            NDScope.unregister(x);
            if (logits != null) {
                NDScope.unregister(logits);
            }
            return new ForwardOutput(out, x, logits, ab.batch, ab.steps);
        } catch (RuntimeException ex) {
            out.close();
            throw ex;
        }
    }

    /** Switches the draft chain ({@link #chain}) to one TorchScript call. */
    public void compile() throws IOException {
        if (compiled == null) {
            compiled = CompiledDraftChain.of(config, manager, rotateHalf, embed, base.lmHead(), fcWeight, fcBias, layer);
        }
    }

    public boolean isCompiled() {
        return compiled != null;
    }

    /**
     * The compiled draft chain ({@link #compile} first): the draft layer over the new pairs
     * ({@code hidden [B, T, H]}, {@code inputs}, appended to the draft caches), then up to {@code depth}
     * draft steps along the top-1 chain. With a {@link ChainStop} it stops where one more depth no
     * longer pays; without, it drafts every depth. With {@link Sampling} (null: all greedy), sampled
     * sequences draft with the verification's own noise. Chain rows stay out of the caches.
     */
    public Proposals chain(NDArray hidden, List<SequenceInput> inputs, int depth, int width, ChainStop stop,
                           Sampling sampling) {
        try (NDManager out = manager.newSubManager()) {
            return compiled.run(out, hidden, inputs, inputs.get(0).cache().pool(), depth, width, stop, sampling);
        }
    }

    public LlamaModel base() {
        return base;
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

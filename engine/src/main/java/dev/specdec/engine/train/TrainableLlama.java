package dev.specdec.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.io.CheckpointReader;
import dev.specdec.engine.io.SafetensorsWriter;
import dev.specdec.engine.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A LLaMA model as trainable parameters under HuggingFace tensor names, with a differentiable full-
 * sequence forward pass. It saves as a checkpoint folder that {@code LlamaModel.load} (and HF
 * transformers) reads.
 */
public final class TrainableLlama {
    public final ModelConfig config;
    private final Map<String, NDArray> params;

    private TrainableLlama(ModelConfig config, Map<String, NDArray> params) {
        this.config = config;
        this.params = params;
    }

    /**
     * Fresh weights: normal(0, 0.02) for matrices and embeddings (output projections scaled by
     * 1/sqrt(2 * layers), as GPT-2 does), gains of 1. Deterministic in {@code seed}.
     */
    public static TrainableLlama initialize(ModelConfig c, NDManager m, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, NDArray> p = new LinkedHashMap<>();
        long h = c.hiddenSize;
        double residualStd = 0.02 / Math.sqrt(2.0 * c.numLayers);
        p.put("model.embed_tokens.weight", normal(m, rnd, 0.02, c.vocabSize, h));
        for (int i = 0; i < c.numLayers; i++) {
            String l = "model.layers." + i + ".";
            p.put(l + "input_layernorm.weight", m.ones(new Shape(h)));
            p.put(l + "self_attn.q_proj.weight", normal(m, rnd, 0.02, c.qDim(), h));
            p.put(l + "self_attn.k_proj.weight", normal(m, rnd, 0.02, c.kvDim(), h));
            p.put(l + "self_attn.v_proj.weight", normal(m, rnd, 0.02, c.kvDim(), h));
            p.put(l + "self_attn.o_proj.weight", normal(m, rnd, residualStd, h, c.qDim()));
            p.put(l + "post_attention_layernorm.weight", m.ones(new Shape(h)));
            p.put(l + "mlp.gate_proj.weight", normal(m, rnd, 0.02, c.intermediateSize, h));
            p.put(l + "mlp.up_proj.weight", normal(m, rnd, 0.02, c.intermediateSize, h));
            p.put(l + "mlp.down_proj.weight", normal(m, rnd, residualStd, h, c.intermediateSize));
        }
        p.put("model.norm.weight", m.ones(new Shape(h)));
        if (!c.tieWordEmbeddings) {
            p.put("lm_head.weight", normal(m, rnd, 0.02, c.vocabSize, h));
        }
        return new TrainableLlama(c, p);
    }

    static NDArray normal(NDManager m, SplittableRandom rnd, double std, long... shape) {
        Shape s = new Shape(shape);
        float[] data = new float[Math.toIntExact(s.size())];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (gaussian(rnd) * std);
        }
        return m.create(data, s);
    }

    static double gaussian(SplittableRandom rnd) {
        // Box-Muller: SplittableRandom has no nextGaussian in Java 17.
        double u1 = 1.0 - rnd.nextDouble();
        double u2 = rnd.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** Loads trainable weights from a checkpoint folder (e.g. to continue training or to distill). */
    public static TrainableLlama load(Path dir, NDManager m) throws IOException {
        ModelConfig c = ModelConfig.load(dir);
        Map<String, NDArray> p = new LinkedHashMap<>();
        try (CheckpointReader r = CheckpointReader.open(dir)) {
            TrainableLlama shape = initializeShapesOnly(c);
            for (Map.Entry<String, long[]> e : shape.expectedShapes().entrySet()) {
                p.put(e.getKey(), r.read(m, e.getKey(), e.getValue()));
            }
        }
        return new TrainableLlama(c, p);
    }

    private static TrainableLlama initializeShapesOnly(ModelConfig c) {
        return new TrainableLlama(c, null);
    }

    /** The tensor names and shapes of this architecture. */
    public Map<String, long[]> expectedShapes() {
        ModelConfig c = config;
        Map<String, long[]> s = new LinkedHashMap<>();
        long h = c.hiddenSize;
        s.put("model.embed_tokens.weight", new long[] {c.vocabSize, h});
        for (int i = 0; i < c.numLayers; i++) {
            String l = "model.layers." + i + ".";
            s.put(l + "input_layernorm.weight", new long[] {h});
            s.put(l + "self_attn.q_proj.weight", new long[] {c.qDim(), h});
            s.put(l + "self_attn.k_proj.weight", new long[] {c.kvDim(), h});
            s.put(l + "self_attn.v_proj.weight", new long[] {c.kvDim(), h});
            s.put(l + "self_attn.o_proj.weight", new long[] {h, c.qDim()});
            s.put(l + "post_attention_layernorm.weight", new long[] {h});
            s.put(l + "mlp.gate_proj.weight", new long[] {c.intermediateSize, h});
            s.put(l + "mlp.up_proj.weight", new long[] {c.intermediateSize, h});
            s.put(l + "mlp.down_proj.weight", new long[] {h, c.intermediateSize});
        }
        s.put("model.norm.weight", new long[] {h});
        if (!c.tieWordEmbeddings) {
            s.put("lm_head.weight", new long[] {c.vocabSize, h});
        }
        return s;
    }

    public Map<String, NDArray> parameters() {
        return params;
    }

    public NDArray lmHeadWeight() {
        return c("lm_head.weight", "model.embed_tokens.weight");
    }

    private NDArray c(String name, String fallback) {
        NDArray a = params.get(name);
        return a != null ? a : params.get(fallback);
    }

    public TrainGraph.Layer layer(int i) {
        String l = "model.layers." + i + ".";
        return new TrainGraph.Layer(params.get(l + "input_layernorm.weight"),
                params.get(l + "self_attn.q_proj.weight"), params.get(l + "self_attn.k_proj.weight"),
                params.get(l + "self_attn.v_proj.weight"), null, null, null,
                params.get(l + "self_attn.o_proj.weight"), params.get(l + "post_attention_layernorm.weight"),
                params.get(l + "mlp.gate_proj.weight"), params.get(l + "mlp.up_proj.weight"),
                params.get(l + "mlp.down_proj.weight"));
    }

    /** Post-norm hidden states [B, T, H] of token ids [B, T]. */
    public NDArray hidden(TrainGraph g, NDArray ids) {
        NDArray x = params.get("model.embed_tokens.weight").get(ids.reshape(-1))
                .reshape(ids.getShape().get(0), ids.getShape().get(1), config.hiddenSize);
        for (int i = 0; i < config.numLayers; i++) {
            x = g.decoderLayer(x, layer(i));
        }
        return g.rmsNorm(x, params.get("model.norm.weight"));
    }

    /** Logits [.., V] of hidden states [.., H]. */
    public NDArray logits(NDArray hidden) {
        return Linear.linear(hidden, lmHeadWeight()).singletonOrThrow();
    }

    public void setRequiresGradient(boolean on) {
        params.values().forEach(p -> p.setRequiresGradient(on));
    }

    public long parameterCount() {
        long n = 0;
        for (NDArray a : params.values()) {
            n += a.getShape().size();
        }
        return n;
    }

    /** Writes {@code config.json} and {@code model.safetensors} (HF layout) into {@code dir}. */
    public void save(Path dir, ObjectNode configJson) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Files.writeString(dir.resolve("config.json"), json.writeValueAsString(configJson));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), params, Map.of());
    }
}

package dev.specdec.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The architecture settings of a LLaMA-family checkpoint, read from HuggingFace's {@code config.json}
 * (and {@code generation_config.json} for end-of-sequence ids). Accepts LLaMA 2/3/3.1, Mistral and
 * Qwen2 configs; anything else is refused with a message that names the offending key.
 */
public final class ModelConfig {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> SUPPORTED_TYPES = Set.of("llama", "mistral", "qwen2");

    public final String modelType;
    public final int hiddenSize;           // H
    public final int intermediateSize;     // I (SwiGLU width)
    public final int numLayers;
    public final int numHeads;             // query heads
    public final int numKvHeads;           // key/value heads (grouped-query attention when < numHeads)
    public final int headDim;              // may differ from H / numHeads when given explicitly
    public final int vocabSize;            // V
    public final double rmsNormEps;
    public final int maxPositions;         // context length
    public final boolean tieWordEmbeddings;
    public final boolean qkvBias;          // Qwen2, or LLaMA with attention_bias
    public final boolean outputBias;       // LLaMA with attention_bias
    public final boolean mlpBias;
    public final int slidingWindow;        // 0 = full attention
    public final RopeSpec rope;
    public final int bosTokenId;           // -1 when absent
    public final List<Integer> eosTokenIds;

    private ModelConfig(JsonNode c, JsonNode generation) {
        this.modelType = text(c, "model_type", "llama");
        if (!SUPPORTED_TYPES.contains(modelType)) {
            throw new ModelFormatException("config.json: model_type '" + modelType
                    + "' is not supported (supported: llama, mistral, qwen2)");
        }
        String act = text(c, "hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new ModelFormatException("config.json: hidden_act '" + act + "' is not supported (only silu)");
        }
        this.hiddenSize = requiredInt(c, "hidden_size");
        this.intermediateSize = requiredInt(c, "intermediate_size");
        this.numLayers = requiredInt(c, "num_hidden_layers");
        this.numHeads = requiredInt(c, "num_attention_heads");
        this.numKvHeads = c.hasNonNull("num_key_value_heads") ? c.get("num_key_value_heads").asInt() : numHeads;
        this.headDim = c.hasNonNull("head_dim") ? c.get("head_dim").asInt() : hiddenSize / numHeads;
        this.vocabSize = requiredInt(c, "vocab_size");
        this.rmsNormEps = c.hasNonNull("rms_norm_eps") ? c.get("rms_norm_eps").asDouble() : 1e-6;
        this.maxPositions = c.hasNonNull("max_position_embeddings") ? c.get("max_position_embeddings").asInt() : 2048;
        boolean qwen = modelType.equals("qwen2");
        this.tieWordEmbeddings = c.hasNonNull("tie_word_embeddings") && c.get("tie_word_embeddings").asBoolean();
        boolean attentionBias = c.hasNonNull("attention_bias") && c.get("attention_bias").asBoolean();
        this.qkvBias = qwen || attentionBias;
        this.outputBias = !qwen && attentionBias;
        this.mlpBias = c.hasNonNull("mlp_bias") && c.get("mlp_bias").asBoolean();
        this.slidingWindow = slidingWindowOf(c, qwen);
        this.rope = RopeSpec.fromConfig(c, headDim, maxPositions);
        this.bosTokenId = c.hasNonNull("bos_token_id") ? c.get("bos_token_id").asInt() : -1;
        Set<Integer> eos = new LinkedHashSet<>();
        JsonNode genEos = generation == null ? null : generation.get("eos_token_id");
        addIds(eos, genEos != null && !genEos.isNull() ? genEos : c.get("eos_token_id"));
        this.eosTokenIds = List.copyOf(eos);
        validate();
    }

    private static int slidingWindowOf(JsonNode c, boolean qwen) {
        if (!c.hasNonNull("sliding_window")) {
            return 0;
        }
        if (qwen && !(c.hasNonNull("use_sliding_window") && c.get("use_sliding_window").asBoolean())) {
            return 0;
        }
        if (qwen && c.hasNonNull("max_window_layers") && c.get("max_window_layers").asInt() < c.path("num_hidden_layers").asInt()) {
            throw new ModelFormatException("config.json: Qwen2 sliding window on only some layers (max_window_layers) is not supported");
        }
        return c.get("sliding_window").asInt();
    }

    private void validate() {
        if (hiddenSize <= 0 || intermediateSize <= 0 || numLayers <= 0 || numHeads <= 0 || numKvHeads <= 0
                || headDim <= 0 || vocabSize <= 0) {
            throw new ModelFormatException("config.json: sizes must be positive");
        }
        if (numHeads % numKvHeads != 0) {
            throw new ModelFormatException("config.json: num_attention_heads (" + numHeads
                    + ") is not a multiple of num_key_value_heads (" + numKvHeads + ")");
        }
        if (headDim % 2 != 0) {
            throw new ModelFormatException("config.json: head_dim must be even for rotary embeddings, got " + headDim);
        }
    }

    private static void addIds(Set<Integer> out, JsonNode node) {
        if (node == null || node.isNull()) {
            return;
        }
        if (node.isArray()) {
            node.forEach(n -> out.add(n.asInt()));
        } else {
            out.add(node.asInt());
        }
    }

    private static String text(JsonNode c, String key, String dflt) {
        return c.hasNonNull(key) ? c.get(key).asText() : dflt;
    }

    private static int requiredInt(JsonNode c, String key) {
        if (!c.hasNonNull(key)) {
            throw new ModelFormatException("config.json: required key '" + key + "' is missing");
        }
        return c.get(key).asInt();
    }

    /** Reads {@code config.json} (and {@code generation_config.json} if present) from a checkpoint folder. */
    public static ModelConfig load(Path dir) throws IOException {
        Path config = dir.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            throw new ModelFormatException("no config.json in " + dir + " (expected a HuggingFace checkpoint folder)");
        }
        JsonNode c = JSON.readTree(config.toFile());
        Path gen = dir.resolve("generation_config.json");
        JsonNode g = Files.isRegularFile(gen) ? JSON.readTree(gen.toFile()) : null;
        return new ModelConfig(c, g);
    }

    public static ModelConfig parse(JsonNode config, JsonNode generationConfig) {
        return new ModelConfig(config, generationConfig);
    }

    /** {@code n} token ids spread over the vocabulary (avoiding the first three), for timing probes; {@code seed} varies them. */
    public int[] probeTokens(int n, int seed) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 3 + Math.floorMod(seed * 7919 + i * 104729, vocabSize - 3);
        }
        return t;
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    public int groupSize() {
        return numHeads / numKvHeads;
    }

    /** Builds a config.json body for a new LLaMA model trained by this project. */
    public static ObjectNode llamaConfigJson(int hidden, int intermediate, int layers, int heads, int kvHeads,
                                             int vocab, int maxPositions, double ropeTheta, boolean tie,
                                             int bos, int eos) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("hidden_size", hidden);
        c.put("intermediate_size", intermediate);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("head_dim", hidden / heads);
        c.put("vocab_size", vocab);
        c.put("max_position_embeddings", maxPositions);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", ropeTheta);
        c.putObject("rope_parameters").put("rope_theta", ropeTheta).put("rope_type", "default");
        c.put("hidden_act", "silu");
        c.put("attention_bias", false);
        c.put("mlp_bias", false);
        c.put("tie_word_embeddings", tie);
        c.put("bos_token_id", bos);
        c.put("eos_token_id", eos);
        c.put("torch_dtype", "float32");
        return c;
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        parts.add(modelType);
        parts.add("layers=" + numLayers);
        parts.add("hidden=" + hiddenSize);
        parts.add("heads=" + numHeads + "/" + numKvHeads + "x" + headDim);
        parts.add("ffn=" + intermediateSize);
        parts.add("vocab=" + vocabSize);
        parts.add("ctx=" + maxPositions);
        parts.add("rope=" + rope);
        if (tieWordEmbeddings) {
            parts.add("tied");
        }
        return String.join(" ", parts);
    }
}

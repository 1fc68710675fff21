package dev.specdec.engine.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.testing.ReferenceLlama;
import dev.specdec.engine.testing.SyntheticCheckpoint;
import dev.specdec.engine.testing.SyntheticLlama;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoint shapes beyond the golden fixtures: Qwen2 (q/k/v bias, tied head, BF16 shards), LLaMA 3.1
 * (llama3 rope scaling, F16, multi-query), Mistral (explicit head_dim, sliding window), LLaMA with
 * attention and MLP biases and linear rope scaling given only as a {@code rope_parameters} block.
 * Each is checked against an independent double-precision reference forward pass.
 */
class CheckpointVariantsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static void check(SyntheticLlama.Variant v, ObjectNode config, double[] invFreq, Path dir) throws IOException {
        SyntheticCheckpoint ck = SyntheticLlama.weights(v);
        ck.write(dir, v.dtype(), v.shards(), config);
        ReferenceLlama ref = new ReferenceLlama(new ReferenceLlama.Spec(v.hidden(), v.inter(), v.layers(), v.heads(),
                v.kvHeads(), v.headDim(), v.vocab(), 1e-6, v.tied(), v.qkvBias(), v.oBias(), v.mlpBias(), v.window(),
                invFreq, 1.0), ck.tensors);
        int[] tokens = new int[20];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (i * 37 + 11) % v.vocab();
        }
        double[][] want = ref.logits(tokens);
        try (LlamaModel model = LlamaModel.load(dir, null);
             KvCachePool pool = model.newCachePool(1, 8);
             KvCache cache = pool.allocate()) {
            // Prefill half, then decode the rest one token at a time: both paths are checked.
            float[] got = new float[tokens.length * v.vocab()];
            try (ForwardOutput out = model.forward(List.of(SequenceInput.causal(cache, java.util.Arrays.copyOf(tokens, 10))),
                    ForwardOutput.LogitsMode.ALL)) {
                System.arraycopy(out.logits.toFloatArray(), 0, got, 0, 10 * v.vocab());
            }
            for (int i = 10; i < tokens.length; i++) {
                try (ForwardOutput out = model.forward(List.of(SequenceInput.causal(cache, tokens[i])), ForwardOutput.LogitsMode.LAST)) {
                    System.arraycopy(out.logits.toFloatArray(), 0, got, i * v.vocab(), v.vocab());
                }
            }
            double max = 0;
            double scale = 0;
            for (int t = 0; t < tokens.length; t++) {
                for (int i = 0; i < v.vocab(); i++) {
                    max = Math.max(max, Math.abs(want[t][i] - got[t * v.vocab() + i]));
                    scale = Math.max(scale, Math.abs(want[t][i]));
                }
            }
            assertTrue(scale > 0.1, "reference logits are degenerate");
            assertTrue(max < 1e-3, v.type() + " (" + v.dtype() + "): max logit error " + max + " (logit scale " + scale + ")");
        }
    }

    @Test
    void qwen2WithBiasTiedHeadAndBf16Shards(@TempDir Path dir) throws IOException {
        SyntheticLlama.Variant v = new SyntheticLlama.Variant("qwen2", 32, 64, 2, 4, 2, 8, 61, true, true, false, false, 0, "BF16", 3);
        ObjectNode c = SyntheticLlama.config(v);
        c.put("rope_theta", 1000000.0);
        c.put("use_sliding_window", false);
        c.put("sliding_window", 4);   // ignored: use_sliding_window is false
        check(v, c, ReferenceLlama.defaultInvFreq(1e6, 8), dir);
    }

    @Test
    void llama31RopeScalingF16MultiQuery(@TempDir Path dir) throws IOException {
        SyntheticLlama.Variant v = new SyntheticLlama.Variant("llama", 32, 48, 2, 4, 1, 8, 53, false, false, false, false, 0, "F16", 1);
        ObjectNode c = SyntheticLlama.withLlama31Rope(SyntheticLlama.config(v));
        check(v, c, ReferenceLlama.llama3InvFreq(500000, 8, 8, 1, 4, 64), dir);
    }

    @Test
    void mistralExplicitHeadDimAndSlidingWindow(@TempDir Path dir) throws IOException {
        SyntheticLlama.Variant v = new SyntheticLlama.Variant("mistral", 32, 64, 2, 4, 2, 12, 47, false, false, false, false, 6, "F32", 2);
        ObjectNode c = SyntheticLlama.config(v);
        c.put("rope_theta", 10000.0);
        c.put("sliding_window", 6);
        check(v, c, ReferenceLlama.defaultInvFreq(10000, 12), dir);
    }

    @Test
    void llamaWithBiasesAndLinearRopeInRopeParameters(@TempDir Path dir) throws IOException {
        SyntheticLlama.Variant v = new SyntheticLlama.Variant("llama", 24, 40, 2, 3, 3, 8, 41, false, true, true, true, 0, "F32", 1);
        ObjectNode c = SyntheticLlama.config(v);
        c.put("attention_bias", true);
        c.put("mlp_bias", true);
        ObjectNode rp = c.putObject("rope_parameters");
        rp.put("rope_theta", 10000.0);
        rp.put("rope_type", "linear");
        rp.put("factor", 2.0);
        double[] f = ReferenceLlama.defaultInvFreq(10000, 8);
        for (int i = 0; i < f.length; i++) {
            f[i] /= 2;
        }
        check(v, c, f, dir);
    }

    @Test
    void wrongTensorShapeIsNamed(@TempDir Path dir) throws IOException {
        SyntheticLlama.Variant v = new SyntheticLlama.Variant("llama", 32, 48, 1, 4, 4, 8, 30, false, false, false, false, 0, "F32", 1);
        SyntheticCheckpoint ck = SyntheticLlama.weights(v);
        ck.write(dir, "F32", 1, SyntheticLlama.config(v));
        ObjectNode bad = SyntheticLlama.config(v);
        bad.put("intermediate_size", 50);
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(bad));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> LlamaModel.load(dir, null));
        assertTrue(e.getMessage().contains("model.layers.0.mlp.gate_proj.weight"), e.getMessage());
    }

    @Test
    void unsupportedArchitectureAndMissingFilesAreClear(@TempDir Path dir) throws IOException {
        assertTrue(assertThrows(ModelFormatException.class, () -> LlamaModel.load(dir.resolve("nope"), null))
                .getMessage().contains("does not exist"));
        assertTrue(assertThrows(ModelFormatException.class, () -> LlamaModel.load(dir, null))
                .getMessage().contains("config.json"));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"gpt2\",\"hidden_size\":8}");
        assertTrue(assertThrows(ModelFormatException.class, () -> LlamaModel.load(dir, null))
                .getMessage().contains("gpt2"));
        SyntheticLlama.Variant v = new SyntheticLlama.Variant("llama", 32, 48, 1, 4, 4, 8, 30, false, false, false, false, 0, "F32", 1);
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(SyntheticLlama.config(v)));
        assertTrue(assertThrows(ModelFormatException.class, () -> LlamaModel.load(dir, null))
                .getMessage().contains("safetensors"));
    }
}

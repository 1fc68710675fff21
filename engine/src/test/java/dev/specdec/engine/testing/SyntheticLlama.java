package dev.specdec.engine.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Random LLaMA-family checkpoints of any shape the engine loads (Qwen2 biases, tied heads, GQA,
 * explicit head_dim, sliding windows), as {@link SyntheticCheckpoint} weights and an HF config.
 */
public final class SyntheticLlama {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SyntheticLlama() {
    }

    public record Variant(String type, int hidden, int inter, int layers, int heads, int kvHeads, int headDim,
                           int vocab, boolean tied, boolean qkvBias, boolean oBias, boolean mlpBias, int window,
                           String dtype, int shards) {
    }

    public static SyntheticCheckpoint weights(Variant v) {
        SyntheticCheckpoint ck = new SyntheticCheckpoint(v.type().hashCode());
        int q = v.heads() * v.headDim();
        int kv = v.kvHeads() * v.headDim();
        ck.random("model.embed_tokens.weight", 6, v.vocab(), v.hidden());
        for (int l = 0; l < v.layers(); l++) {
            String p = "model.layers." + l + ".";
            ck.gain(p + "input_layernorm.weight", v.hidden());
            ck.random(p + "self_attn.q_proj.weight", 8, q, v.hidden());
            ck.random(p + "self_attn.k_proj.weight", 8, kv, v.hidden());
            ck.random(p + "self_attn.v_proj.weight", 8, kv, v.hidden());
            ck.random(p + "self_attn.o_proj.weight", 8, v.hidden(), q);
            if (v.qkvBias()) {
                ck.random(p + "self_attn.q_proj.bias", 7, q);
                ck.random(p + "self_attn.k_proj.bias", 7, kv);
                ck.random(p + "self_attn.v_proj.bias", 7, kv);
            }
            if (v.oBias()) {
                ck.random(p + "self_attn.o_proj.bias", 7, v.hidden());
            }
            ck.gain(p + "post_attention_layernorm.weight", v.hidden());
            ck.random(p + "mlp.gate_proj.weight", 8, v.inter(), v.hidden());
            ck.random(p + "mlp.up_proj.weight", 8, v.inter(), v.hidden());
            ck.random(p + "mlp.down_proj.weight", 8, v.hidden(), v.inter());
            if (v.mlpBias()) {
                ck.random(p + "mlp.gate_proj.bias", 7, v.inter());
                ck.random(p + "mlp.up_proj.bias", 7, v.inter());
                ck.random(p + "mlp.down_proj.bias", 7, v.hidden());
            }
        }
        ck.gain("model.norm.weight", v.hidden());
        if (!v.tied()) {
            ck.random("lm_head.weight", 6, v.vocab(), v.hidden());
        }
        return ck;
    }

    public static ObjectNode config(Variant v) {
        ObjectNode c = JSON.createObjectNode();
        c.put("model_type", v.type());
        c.put("hidden_size", v.hidden());
        c.put("intermediate_size", v.inter());
        c.put("num_hidden_layers", v.layers());
        c.put("num_attention_heads", v.heads());
        c.put("num_key_value_heads", v.kvHeads());
        if (v.headDim() != v.hidden() / v.heads()) {
            c.put("head_dim", v.headDim());
        }
        c.put("vocab_size", v.vocab());
        c.put("rms_norm_eps", 1e-6);
        c.put("max_position_embeddings", 256);
        c.put("tie_word_embeddings", v.tied());
        c.put("hidden_act", "silu");
        c.put("eos_token_id", 2);
        return c;
    }

    /**
     * LLaMA 3.1's rope: theta 500,000 and the "llama3" scaling (factor 8, low/high frequency factors
     * 1 and 4, an original context of 64 positions).
     */
    public static ObjectNode withLlama31Rope(ObjectNode c) {
        c.put("rope_theta", 500000.0);
        ObjectNode rs = c.putObject("rope_scaling");
        rs.put("rope_type", "llama3");
        rs.put("factor", 8.0);
        rs.put("low_freq_factor", 1.0);
        rs.put("high_freq_factor", 4.0);
        rs.put("original_max_position_embeddings", 64);
        return c;
    }
}

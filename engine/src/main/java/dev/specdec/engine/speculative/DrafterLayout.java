package dev.specdec.engine.speculative;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.io.CheckpointReader;
import dev.specdec.engine.model.ModelConfig;

/**
 * The part of {@code drafter.json} written for loaders outside this engine: what the drafter's
 * inputs are and in which order, which base-model tensors it shares, and what its output means.
 * The engine itself never reads it (the code in {@code DraftModule} and {@code MedusaHeads} is the
 * truth); it is written so that a reimplementation does not have to read that code.
 *
 * <p>Every statement here is what the engine does: the hidden state handed to a drafter is the
 * one {@code LlamaModel.forward} returns, after the final RMS norm; the CTC draft module
 * concatenates the token embedding first, the hidden state second.
 */
public final class DrafterLayout {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String HIDDEN_STATE = "h_t: the base model's last decoder layer output after its final norm"
            + " (the state its lm_head reads), at the position of token x_t";

    private DrafterLayout() {
    }

    /**
     * Base-model tensor names the drafter shares.
     *
     * @param embedding the base model's embedding ({@code model.embed_tokens.weight} in a LLaMA checkpoint)
     * @param lmHead the base model's output projection ({@code lm_head.weight}, or the embedding when tied)
     */
    public record BaseTensors(String embedding, String lmHead) {
        /** The names in a base checkpoint: its own {@code lm_head.weight} unless it ties it to the embedding. */
        public static BaseTensors of(CheckpointReader base, ModelConfig config) {
            String embedding = (base.has("model.embed_tokens.weight") ? "model." : "") + "embed_tokens.weight";
            boolean ownHead = base.has("lm_head.weight") && !config.tieWordEmbeddings;
            return new BaseTensors(embedding, ownHead ? "lm_head.weight" : embedding);
        }
    }

    /**
     * The layout block of a drafter of {@code type} ("ctc" or "medusa").
     *
     * @param embeddingIncluded the drafter's safetensors carries {@code embed_tokens.weight} (a copy)
     */
    public static ObjectNode of(String type, BaseTensors base, boolean embeddingIncluded) {
        return type.equals("medusa") ? medusa(base) : ctc(base, embeddingIncluded);
    }

    private static ObjectNode ctc(BaseTensors base, boolean embeddingIncluded) {
        ObjectNode j = JSON.createObjectNode();
        ObjectNode in = j.putObject("inputs");
        in.putArray("order").add("token_embedding").add("hidden_state");
        in.put("token_embedding", "E(x_{t+1}): the embedding row of the token that follows position t");
        in.put("hidden_state", HIDDEN_STATE);
        in.put("combine", "z = fc.weight @ concat(token_embedding, hidden_state) + fc.bias; fc.weight is"
                + " [hidden_size, 2 * hidden_size]");
        j.put("layer", "one LLaMA decoder layer (layers.0.*, shape from this folder's config.json) applied to z"
                + " without input_layernorm, with its own KV cache and RoPE at the absolute position t; no final norm");
        j.put("output", "f_t predicts the base model's hidden state at t+1; lm_head(f_t) gives draft logits for"
                + " x_{t+2}; further chain steps feed f_t back as hidden_state with the drafted token");
        j.put("embedding", embeddingIncluded
                ? "embed_tokens.weight in this folder, a copy of the base model's " + base.embedding()
                : "shared with base model (" + base.embedding() + ")");
        j.put("lm_head", "shared with base model (" + base.lmHead() + ")");
        return j;
    }

    private static ObjectNode medusa(BaseTensors base) {
        ObjectNode j = JSON.createObjectNode();
        ObjectNode in = j.putObject("inputs");
        in.putArray("order").add("hidden_state");
        in.put("hidden_state", HIDDEN_STATE);
        j.put("heads", "head k (medusa_head.k.0.linear, k from 0) computes lm_head(h_t + silu(W_k h_t + b_k)):"
                + " logits for x_{t+2+k}, the base model's own lm_head giving x_{t+1}");
        j.put("lm_head", "shared with base model (" + base.lmHead() + ")");
        return j;
    }
}

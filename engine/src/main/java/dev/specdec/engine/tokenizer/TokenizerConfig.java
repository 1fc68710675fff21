package dev.specdec.engine.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code tokenizer_config.json} that HuggingFace loaders (transformers, transformers.js) read
 * beside {@code tokenizer.json}: which class to build, the special tokens by name, the context
 * length, and that decoding keeps spaces as the tokenizer's decoder leaves them (the engine never
 * "cleans up" spaces before punctuation, so a loader must not either, or texts would differ).
 */
public final class TokenizerConfig {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private TokenizerConfig() {
    }

    /**
     * Writes {@code dir/tokenizer_config.json} for the tokenizer in {@code dir}.
     *
     * @param bos the beginning-of-sequence token's id, eos the end's, pad the padding's (-1: none)
     */
    public static Path write(Path dir, TextTokenizer tokenizer, int bos, int eos, int pad, int contextLength)
            throws IOException {
        ObjectNode c = JSON.createObjectNode();
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        c.put("bos_token", name(tokenizer, bos, "bos"));
        c.put("eos_token", name(tokenizer, eos, "eos"));
        if (pad >= 0) {
            c.put("pad_token", name(tokenizer, pad, "pad"));
        }
        c.put("model_max_length", contextLength);
        c.put("clean_up_tokenization_spaces", false);
        Path file = dir.resolve("tokenizer_config.json");
        Files.writeString(file, JSON.writeValueAsString(c) + "\n", StandardCharsets.UTF_8);
        return file;
    }

    private static String name(TextTokenizer tokenizer, int id, String what) {
        for (var e : tokenizer.specialTokens().entrySet()) {
            if (e.getValue() == id) {
                return e.getKey();
            }
        }
        throw new IllegalArgumentException("the " + what + " token id " + id + " is not a special token of " + tokenizer.path());
    }
}

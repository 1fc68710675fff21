package dev.specdec.job.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Finds a checkpoint's chat template where transformers looks for it: {@code chat_template.jinja}
 * in the model folder first, else {@code chat_template} in its {@code tokenizer_config.json} (one
 * string, or a list of named templates of which the one named "default" is the chat template).
 * The special tokens named there ({@code bos_token}, {@code eos_token}, ...; plain strings or
 * AddedToken objects with a {@code content}) become the template's variables.
 */
public final class ChatTemplates {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String TEMPLATE_FILE = "chat_template.jinja";
    public static final String CONFIG_FILE = "tokenizer_config.json";

    private ChatTemplates() {
    }

    /**
     * The template to render chat messages with for the model in {@code modelDir}: {@code override}
     * (the text of the job's {@code --chat-template} file) when not null, else the model's own; null
     * when the model has none.
     */
    public static ChatTemplate load(Path modelDir, String override) {
        JsonNode config = config(modelDir);
        String source = override != null ? override : ownTemplate(modelDir, config);
        return source == null ? null : new ChatTemplate(source, specialTokens(config));
    }

    private static JsonNode config(Path modelDir) {
        Path file = modelDir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(file)) {
            return JSON.createObjectNode();
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static String ownTemplate(Path modelDir, JsonNode config) {
        Path file = modelDir.resolve(TEMPLATE_FILE);
        if (Files.isRegularFile(file)) {
            try {
                return Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
            }
        }
        JsonNode t = config.get("chat_template");
        if (t == null || t.isNull()) {
            return null;
        }
        if (t.isTextual()) {
            return t.asText();
        }
        if (t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText(null)) && named.path("template").isTextual()) {
                    return named.get("template").asText();
                }
            }
            return null;
        }
        throw new IllegalArgumentException(modelDir.resolve(CONFIG_FILE)
                + ": chat_template must be a string or a list of {name, template}");
    }

    /** The {@code *_token} entries of {@code tokenizer_config.json} by name, as their token text. */
    static Map<String, String> specialTokens(JsonNode config) {
        Map<String, String> tokens = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = config.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (!e.getKey().endsWith("_token")) {
                continue;
            }
            if (v.isTextual()) {
                tokens.put(e.getKey(), v.asText());
            } else if (v.isObject() && v.path("content").isTextual()) {
                tokens.put(e.getKey(), v.get("content").asText());
            }
        }
        return tokens;
    }
}

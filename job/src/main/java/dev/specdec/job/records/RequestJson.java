package dev.specdec.job.records;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.PromptDataset;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.records.ChatMessage;
import dev.specdec.records.Drafter;
import dev.specdec.records.GenerationRequest;
import dev.specdec.records.RequestAction;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a request from one JSON object, in the shapes users bring: the {@code GenerationRequest}
 * fields themselves ({@code request_id}, {@code prompt} or {@code messages}, {@code max_new_tokens},
 * ...), a plain dataset line ({@code id}, {@code prompt}, {@code category}), an MT-bench question
 * ({@code question_id}, {@code category}, {@code turns}: the first turn is the prompt) or a GSM8K
 * problem ({@code question}); which fields hold a line's id and prompt is the engine's
 * {@link PromptDataset} rule, the same for every command. Missing fields take the command's defaults
 * (a {@link SamplingParams}).
 *
 * <p>Shape errors (a string where a number belongs, an unknown drafter) raise
 * {@link RecordFormatException} with the id if one was readable. Value errors (negative
 * {@code max_new_tokens}, no prompt at all) are left to validation, which answers them with an error
 * result.
 */
public final class RequestJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The job commands' default for {@code --max-new-tokens} (the engine commands' is 128). */
    public static final int DEFAULT_MAX_NEW_TOKENS = 64;

    /** Defaults for requests when no command line gave any: greedy, {@link #DEFAULT_MAX_NEW_TOKENS}. */
    public static final SamplingParams STANDARD_DEFAULTS = SamplingParams.greedy(DEFAULT_MAX_NEW_TOKENS);

    private RequestJson() {
    }

    /** A request builder pre-filled with the defaults; the caller sets the prompt. */
    public static GenerationRequest.Builder newRequest(String id, SamplingParams defaults) {
        return GenerationRequest.newBuilder()
                .setRequestId(id)
                .setPrompt(null)
                .setMessages(new ArrayList<>())
                .setMaxNewTokens(defaults.maxNewTokens())
                .setTemperature(defaults.temperature())
                .setTopP(defaults.topP())
                .setTopK(defaults.topK())
                .setSeed(defaults.seed())
                .setStop(new ArrayList<>(defaults.stopStrings()))
                .setStopTokenIds(new ArrayList<>(new java.util.TreeSet<>(defaults.stopTokenIds())))
                .setDrafter(Drafter.DEFAULT)
                .setSubmitTimeMs(Instant.EPOCH)
                .setIgnoreEos(defaults.ignoreEos());
    }

    /** Parses one line; {@code fallbackId} names requests that carry no id of their own. */
    public static GenerationRequest parseLine(String line, String fallbackId, SamplingParams defaults) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new RecordFormatException("not valid JSON: " + e.getOriginalMessage(), null);
        }
        if (node == null || !node.isObject()) {
            throw new RecordFormatException("expected a JSON object", null);
        }
        return parse(node, fallbackId, defaults);
    }

    public static GenerationRequest parse(JsonNode j, String fallbackId, SamplingParams defaults) {
        String id = PromptDataset.idOf(j);
        if (id == null) {
            id = fallbackId;
        }
        if (id == null || id.isEmpty()) {
            throw new RecordFormatException("no request id (request_id, id or question_id)", null);
        }
        GenerationRequest.Builder b = newRequest(id, defaults);
        try {
            fill(j, b, id);
        } catch (RecordFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new RecordFormatException(e.getMessage(), id);
        }
        return b.build();
    }

    private static void fill(JsonNode j, GenerationRequest.Builder b, String id) {
        String prompt = PromptDataset.promptOf(j);
        if (prompt != null) {
            b.setPrompt(prompt);
        }
        if (j.has("messages")) {
            List<ChatMessage> messages = new ArrayList<>();
            for (JsonNode m : array(j, "messages", id)) {
                if (!m.isObject() || !m.hasNonNull("role") || !m.hasNonNull("content")) {
                    throw new RecordFormatException("each message needs a role and a content", id);
                }
                messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
            }
            b.setMessages(messages);
        }
        if (j.has("max_new_tokens")) {
            b.setMaxNewTokens(integer(j, "max_new_tokens", id));
        }
        if (j.has("temperature")) {
            b.setTemperature(number(j, "temperature", id));
        }
        if (j.has("top_p")) {
            b.setTopP(number(j, "top_p", id));
        }
        if (j.has("top_k")) {
            b.setTopK(integer(j, "top_k", id));
        }
        if (j.has("seed")) {
            JsonNode s = j.get("seed");
            if (!s.canConvertToLong() || !s.isIntegralNumber()) {
                throw new RecordFormatException("seed must be an integer", id);
            }
            b.setSeed(s.asLong());
        }
        if (j.has("stop")) {
            JsonNode s = j.get("stop");
            List<String> stops = new ArrayList<>();
            if (s.isTextual()) {
                stops.add(s.asText());
            } else if (s.isArray()) {
                s.forEach(x -> stops.add(x.asText()));
            } else if (!s.isNull()) {
                throw new RecordFormatException("stop must be a string or an array of strings", id);
            }
            b.setStop(stops);
        }
        if (j.has("stop_token_ids")) {
            List<Integer> ids = new ArrayList<>();
            for (JsonNode x : array(j, "stop_token_ids", id)) {
                if (!x.isIntegralNumber() || !x.canConvertToInt()) {
                    throw new RecordFormatException("stop_token_ids must be integers", id);
                }
                ids.add(x.asInt());
            }
            b.setStopTokenIds(ids);
        }
        if (j.hasNonNull("drafter")) {
            b.setDrafter(drafter(text(j, "drafter", id), id));
        }
        if (j.has("submit_time_ms")) {
            b.setSubmitTimeMs(Instant.ofEpochMilli(j.get("submit_time_ms").asLong()));
        }
        Map<String, String> metadata = new HashMap<>();
        if (j.hasNonNull("category")) {
            metadata.put("category", j.get("category").asText());
        }
        if (j.has("metadata")) {
            JsonNode m = j.get("metadata");
            if (!m.isObject()) {
                throw new RecordFormatException("metadata must be an object of strings", id);
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                metadata.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
            }
        }
        b.setMetadata(metadata);
        if (j.has("ignore_eos")) {
            JsonNode x = j.get("ignore_eos");
            if (!x.isBoolean()) {
                throw new RecordFormatException("ignore_eos must be true or false", id);
            }
            b.setIgnoreEos(x.asBoolean());
        }
        if (j.hasNonNull("timeout_ms")) {
            JsonNode x = j.get("timeout_ms");
            if (!x.isIntegralNumber() || !x.canConvertToLong()) {
                throw new RecordFormatException("timeout_ms must be an integer of milliseconds", id);
            }
            b.setTimeoutMs(x.asLong());
        }
        if (j.has("plain_chat_fallback")) {
            JsonNode x = j.get("plain_chat_fallback");
            if (!x.isBoolean()) {
                throw new RecordFormatException("plain_chat_fallback must be true or false", id);
            }
            b.setPlainChatFallback(x.asBoolean());
        }
        if (j.has("truncate_prompt")) {
            JsonNode x = j.get("truncate_prompt");
            if (!x.isBoolean()) {
                throw new RecordFormatException("truncate_prompt must be true or false", id);
            }
            b.setTruncatePrompt(x.asBoolean());
        }
        if (j.hasNonNull("action")) {
            String a = text(j, "action", id).toUpperCase(Locale.ROOT);
            try {
                b.setAction(RequestAction.valueOf(a));
            } catch (IllegalArgumentException e) {
                throw new RecordFormatException("action must be generate or cancel, got '" + a.toLowerCase(Locale.ROOT) + "'", id);
            }
        }
    }

    /** The record's drafter for a method name as commands spell it ({@code default} included). */
    public static Drafter drafter(String name, String id) {
        if (name.trim().equalsIgnoreCase("default")) {
            return Drafter.DEFAULT;
        }
        try {
            return Drafter.valueOf(DecodingMethod.parse(name).name());
        } catch (IllegalArgumentException e) {
            throw new RecordFormatException(e.getMessage(), id);
        }
    }

    /** The decoding method a record's drafter asks for, with DEFAULT standing for {@code jobDefault}. */
    public static DecodingMethod method(Drafter d, DecodingMethod jobDefault) {
        return d == Drafter.DEFAULT ? jobDefault : DecodingMethod.valueOf(d.name());
    }

    private static String text(JsonNode j, String name, String id) {
        JsonNode v = j.get(name);
        if (!v.isTextual()) {
            throw new RecordFormatException(name + " must be a string", id);
        }
        return v.asText();
    }

    private static JsonNode array(JsonNode j, String name, String id) {
        JsonNode v = j.get(name);
        if (v == null || !v.isArray()) {
            throw new RecordFormatException(name + " must be an array", id);
        }
        return v;
    }

    private static int integer(JsonNode j, String name, String id) {
        JsonNode v = j.get(name);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new RecordFormatException(name + " must be an integer, got " + v, id);
        }
        return v.asInt();
    }

    private static double number(JsonNode j, String name, String id) {
        JsonNode v = j.get(name);
        if (!v.isNumber()) {
            throw new RecordFormatException(name + " must be a number, got " + v, id);
        }
        return v.asDouble();
    }
}

package dev.specdec.job.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.records.ChatMessage;
import dev.specdec.records.GenerationRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Turns the body of an OpenAI completions or chat completions call into a {@link GenerationRequest},
 * with the API's own defaults (temperature 1, top_p 1, max_tokens 16 for completions) and its
 * parameter names. What the job cannot do (n > 1, logprobs, penalties, tools, token-id prompts) is
 * refused with a 400 that names the parameter, never silently ignored; fields the API does not
 * define are ignored, as vLLM does. Ranges the job checks itself (context fit, stop limits) are left
 * to it: its error result becomes the 400.
 */
final class OpenAiParams {
    static final int MAX_STOP_STRINGS = 4;
    private static final int COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

    private final String servedModel;
    private final int chatDefaultMaxTokens;
    private final boolean plainChatFallback;

    OpenAiParams(String servedModel, int chatDefaultMaxTokens, boolean plainChatFallback) {
        this.servedModel = servedModel;
        this.chatDefaultMaxTokens = chatDefaultMaxTokens;
        this.plainChatFallback = plainChatFallback;
    }

    OpenAiCall completion(JsonNode body) {
        GenerationRequest.Builder b = common(body, OpenAiCall.Kind.COMPLETION, COMPLETIONS_DEFAULT_MAX_TOKENS);
        refuseIfSet(body, "suffix", "echo");
        if (integer(body, "best_of", 1) != 1) {
            throw OpenAiError.unsupported("best_of", "best_of is not offered by this server (only 1)");
        }
        if (body.hasNonNull("logprobs")) {
            throw OpenAiError.unsupported("logprobs", "logprobs are not offered by this server");
        }
        b.setPrompt(prompt(body.get("prompt")));
        return call(OpenAiCall.Kind.COMPLETION, body, b);
    }

    OpenAiCall chat(JsonNode body) {
        GenerationRequest.Builder b = common(body, OpenAiCall.Kind.CHAT, chatDefaultMaxTokens);
        refuseIfSet(body, "tools", "functions", "audio", "prediction");
        toolChoiceWithoutTools(body, "tool_choice");
        toolChoiceWithoutTools(body, "function_call");
        if (body.path("logprobs").asBoolean(false) || body.hasNonNull("top_logprobs")) {
            throw OpenAiError.unsupported("logprobs", "logprobs are not offered by this server");
        }
        String format = body.path("response_format").path("type").asText("text");
        if (!format.equals("text")) {
            throw OpenAiError.unsupported("response_format", "response_format " + format + " is not offered; only text");
        }
        b.setMessages(messages(body.get("messages")));
        b.setPlainChatFallback(plainChatFallback);
        return call(OpenAiCall.Kind.CHAT, body, b);
    }

    private OpenAiCall call(OpenAiCall.Kind kind, JsonNode body, GenerationRequest.Builder b) {
        boolean stream = bool(body, "stream", false);
        boolean includeUsage = stream && body.path("stream_options").path("include_usage").asBoolean(false);
        return new OpenAiCall(kind, servedModel, stream, includeUsage, System.currentTimeMillis() / 1000, b.build());
    }

    /** Parameters both endpoints share, with the OpenAI API's defaults. */
    private GenerationRequest.Builder common(JsonNode body, OpenAiCall.Kind kind, int defaultMaxTokens) {
        if (body == null || !body.isObject()) {
            throw OpenAiError.invalid(null, "the request body must be a JSON object");
        }
        String model = body.path("model").asText("");
        if (model.isEmpty()) {
            throw OpenAiError.invalid("model", "model is required (this server has '" + servedModel + "')");
        }
        if (!model.equals(servedModel)) {
            throw new OpenAiError(404, "invalid_request_error", "model", "model_not_found",
                    "The model '" + model + "' does not exist; this server has '" + servedModel + "'");
        }
        int n = integer(body, "n", 1);
        if (n != 1) {
            throw OpenAiError.unsupported("n", "n must be 1: this server returns one choice per call");
        }
        zeroOnly(body, "presence_penalty");
        zeroOnly(body, "frequency_penalty");
        if (body.hasNonNull("logit_bias") && body.get("logit_bias").size() > 0) {
            throw OpenAiError.unsupported("logit_bias", "logit_bias is not offered by this server");
        }
        double temperature = number(body, "temperature", 1.0);
        if (!(temperature >= 0 && temperature <= 2)) {
            throw OpenAiError.invalid("temperature", "temperature must be in [0, 2], got " + temperature);
        }
        double topP = number(body, "top_p", 1.0);
        if (!(topP > 0 && topP <= 1)) {
            throw OpenAiError.invalid("top_p", "top_p must be in (0, 1], got " + topP);
        }
        int maxTokens = maxTokens(body, kind, defaultMaxTokens);
        long seed = body.hasNonNull("seed") ? longValue(body, "seed") : ThreadLocalRandom.current().nextLong();
        String id = kind.idPrefix + UUID.randomUUID().toString().replace("-", "");
        GenerationRequest.Builder b = GenerationRequest.newBuilder()
                .setRequestId(id)
                .setMaxNewTokens(maxTokens)
                .setTemperature(temperature)
                .setTopP(topP)
                .setTopK(integer(body, "top_k", 0))
                .setSeed(seed)
                .setStop(stop(body.get("stop")))
                .setIgnoreEos(bool(body, "ignore_eos", false))
                .setSubmitTimeMs(java.time.Instant.ofEpochMilli(System.currentTimeMillis()))
                .setMetadata(Map.of("api", kind.name().toLowerCase(Locale.ROOT)));
        return b;
    }

    private static int maxTokens(JsonNode body, OpenAiCall.Kind kind, int defaultMaxTokens) {
        String name = kind == OpenAiCall.Kind.CHAT && body.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        int max = integer(body, name, defaultMaxTokens);
        if (max < 1) {
            throw OpenAiError.invalid(name, name + " must be at least 1, got " + max);
        }
        return max;
    }

    private static String prompt(JsonNode p) {
        if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            p = p.get(0);
        }
        if (p == null || p.isNull()) {
            throw OpenAiError.invalid("prompt", "prompt is required");
        }
        if (p.isArray()) {
            throw OpenAiError.unsupported("prompt", p.size() > 0 && !p.get(0).isTextual()
                    ? "prompts as token ids are not offered; send text"
                    : "one prompt per call: send a string (or a list of one string)");
        }
        if (!p.isTextual() || p.asText().isEmpty()) {
            throw OpenAiError.invalid("prompt", "prompt must be a non-empty string");
        }
        return p.asText();
    }

    private static List<ChatMessage> messages(JsonNode list) {
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw OpenAiError.invalid("messages", "messages must be a non-empty list");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            String role = m.path("role").asText("");
            String param = "messages[" + i + "]";
            switch (role) {
                case "system", "user", "assistant" -> { }
                case "developer" -> role = "system";   // OpenAI's newer name for the system role
                default -> throw OpenAiError.unsupported(param + ".role",
                        "role '" + role + "' is not offered; roles are system, developer, user and assistant");
            }
            out.add(new ChatMessage(role, content(m.get("content"), param + ".content")));
        }
        return out;
    }

    /** A message's content: a string, or a list of parts of which only text parts are offered. */
    private static String content(JsonNode c, String param) {
        if (c == null || c.isNull()) {
            return "";
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (!c.isArray()) {
            throw OpenAiError.invalid(param, "content must be a string or a list of text parts");
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode part : c) {
            if (!"text".equals(part.path("type").asText())) {
                throw OpenAiError.unsupported(param, "only text content parts are offered, got '" + part.path("type").asText() + "'");
            }
            text.append(part.path("text").asText(""));
        }
        return text.toString();
    }

    private static List<String> stop(JsonNode s) {
        List<String> out = new ArrayList<>();
        if (s == null || s.isNull()) {
            return out;
        }
        if (s.isTextual()) {
            out.add(s.asText());
        } else if (s.isArray()) {
            for (JsonNode x : s) {
                if (!x.isTextual()) {
                    throw OpenAiError.invalid("stop", "stop must be a string or a list of strings");
                }
                out.add(x.asText());
            }
        } else {
            throw OpenAiError.invalid("stop", "stop must be a string or a list of strings");
        }
        if (out.size() > MAX_STOP_STRINGS) {
            throw OpenAiError.invalid("stop", "at most " + MAX_STOP_STRINGS + " stop strings, got " + out.size());
        }
        if (out.stream().anyMatch(String::isEmpty)) {
            throw OpenAiError.invalid("stop", "stop strings must not be empty");
        }
        return out;
    }

    private static void refuseIfSet(JsonNode body, String... names) {
        for (String name : names) {
            JsonNode v = body.get(name);
            boolean set = v != null && !v.isNull() && !(v.isBoolean() && !v.asBoolean()) && !(v.isContainerNode() && v.isEmpty());
            if (set) {
                throw OpenAiError.unsupported(name, name + " is not offered by this server");
            }
        }
    }

    /** Without tools, "none" and "auto" ask for nothing; anything else asks for a tool call. */
    private static void toolChoiceWithoutTools(JsonNode body, String name) {
        JsonNode v = body.get(name);
        if (v != null && !v.isNull() && !(v.isTextual() && (v.asText().equals("none") || v.asText().equals("auto")))) {
            throw OpenAiError.unsupported(name, name + " is not offered by this server (tools are not supported)");
        }
    }

    private static void zeroOnly(JsonNode body, String name) {
        if (number(body, name, 0) != 0) {
            throw OpenAiError.unsupported(name, name + " is not offered by this server (only 0)");
        }
    }

    private static double number(JsonNode body, String name, double fallback) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw OpenAiError.invalid(name, name + " must be a number");
        }
        return v.asDouble();
    }

    private static int integer(JsonNode body, String name, int fallback) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw OpenAiError.invalid(name, name + " must be an integer");
        }
        return v.asInt();
    }

    private static long longValue(JsonNode body, String name) {
        JsonNode v = body.get(name);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw OpenAiError.invalid(name, name + " must be an integer");
        }
        return v.asLong();
    }

    private static boolean bool(JsonNode body, String name, boolean fallback) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw OpenAiError.invalid(name, name + " must be true or false");
        }
        return v.asBoolean();
    }
}

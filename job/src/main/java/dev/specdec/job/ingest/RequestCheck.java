package dev.specdec.job.ingest;

import dev.specdec.engine.model.ModelConfig;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.InvalidRequestException;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.tokenizer.TextTokenizer;
import dev.specdec.job.chat.ChatTemplate;
import dev.specdec.job.records.RequestJson;
import dev.specdec.job.state.TokenizedRequest;
import dev.specdec.records.GenerationRequest;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What the job checks of a decoded request before it may be decoded, as the serving systems check
 * it: the {@link RequestLimits}, a well-formed id, valid text, sampling parameters (temperatures
 * below {@link SamplingParams#GREEDY_BELOW} are greedy), a timeout within range, known chat roles,
 * and a prompt that leaves room for {@code max_new_tokens} in the context (or is cut from the front
 * when the request asks for it). Then it renders and tokenizes the prompt: chat messages with the
 * model's chat template, whose text is tokenized as transformers tokenizes it (no special tokens
 * added: the template wrote them, and their texts become their ids), or, without a template and
 * when the request allows it, as plain {@link ChatPrompt} paragraphs. Every failure is an
 * {@link InvalidRequestException} whose message says what to change, without server paths.
 */
public final class RequestCheck {
    static final String NO_TEMPLATE = "the model has no chat template; pass --chat-template FILE"
            + " or set plain_chat_fallback";
    /** The longest {@code timeout_ms} accepted: a week. */
    static final long MAX_TIMEOUT_MS = 7L * 24 * 3600 * 1000;

    private final TextTokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final ModelConfig config;
    private final RequestLimits limits;
    private final DecodingMethod defaultMethod;
    private final long defaultTimeoutMillis;

    /** @param chatTemplate the model's chat template, or null when it has none */
    public RequestCheck(TextTokenizer tokenizer, ChatTemplate chatTemplate, ModelConfig config, RequestLimits limits,
                        DecodingMethod defaultMethod, long defaultTimeoutMillis) {
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.config = config;
        this.limits = limits;
        this.defaultMethod = defaultMethod;
        this.defaultTimeoutMillis = defaultTimeoutMillis;
    }

    /**
     * Why a request id cannot be used at all (results are addressed by it, so such a request can only
     * be a dead letter), or null when it is fine.
     */
    public String idProblem(String id) {
        if (id == null || id.isBlank()) {
            return "request without a request_id";
        }
        if (!wellFormed(id)) {
            return "request_id is not valid Unicode (it holds an unpaired surrogate)";
        }
        int bytes = id.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > limits.idBytes()) {
            return "request_id is " + bytes + " bytes long, over the limit of " + limits.idBytes()
                    + " (--request-limit id-bytes=N raises it)";
        }
        return null;
    }

    /** The decodable request, arrived at {@code nowMicros}; throws with the reason when it is not one. */
    public TokenizedRequest apply(GenerationRequest r, long nowMicros) {
        String id = r.getRequestId();
        limits.check(r);
        String drafter = RequestJson.method(r.getDrafter(), defaultMethod).wireName();
        Map<String, String> metadata = r.getMetadata() == null ? Map.of() : new HashMap<>(r.getMetadata());
        SamplingParams params = samplingParams(r);
        params.validate();
        long timeout = timeoutMillis(r.getTimeoutMs());
        int[] ids = fit(tokenize(promptText(r)), params.maxNewTokens(), r.getTruncatePrompt());
        new DecodeRequest(id, ids, params).checkAgainst(config);
        TokenizedRequest.Arrival arrival = new TokenizedRequest.Arrival(r.getSubmitTimeMs().toEpochMilli(), nowMicros,
                timeout == 0 ? 0 : nowMicros + timeout * 1000);
        return new TokenizedRequest(id, ids, params, drafter, metadata, arrival, false);
    }

    private long timeoutMillis(Long requested) {
        if (requested == null) {
            return defaultTimeoutMillis;
        }
        if (requested <= 0 || requested > MAX_TIMEOUT_MS) {
            throw new InvalidRequestException("timeout_ms must be in [1, " + MAX_TIMEOUT_MS + "] (a week), got " + requested);
        }
        return requested;
    }

    /** The text to decode from, and whether a chat template wrote it (special tokens included). */
    private record PromptText(String text, boolean templated) {
    }

    private PromptText promptText(GenerationRequest r) {
        PromptText p;
        if (r.getPrompt() != null && !r.getPrompt().isEmpty()) {
            p = new PromptText(r.getPrompt(), false);
        } else if (r.getMessages() != null && !r.getMessages().isEmpty()) {
            p = chatText(r);
        } else {
            throw new InvalidRequestException("missing prompt: set prompt or messages");
        }
        if (p.text().indexOf('\uFFFD') >= 0) {
            throw new InvalidRequestException("the prompt holds U+FFFD, the mark of bytes that were not valid UTF-8;"
                    + " send the text as valid UTF-8");
        }
        if (!wellFormed(p.text())) {
            throw new InvalidRequestException("the prompt is not valid Unicode (it holds an unpaired surrogate)");
        }
        return p;
    }

    private PromptText chatText(GenerationRequest r) {
        var messages = ChatPrompt.forTemplate(r.getMessages());   // checks the roles first
        if (chatTemplate != null) {
            return new PromptText(chatTemplate.render(messages), true);
        }
        if (r.getPlainChatFallback()) {
            return new PromptText(ChatPrompt.render(r.getMessages()), false);
        }
        throw new InvalidRequestException(NO_TEMPLATE);
    }

    /**
     * Ids of a prompt. A plain prompt gets the special tokens the tokenizer adds (a LLaMA-2 {@code <s>});
     * a templated one none (transformers' add_special_tokens=False), as its template wrote the BOS text.
     */
    private int[] tokenize(PromptText p) {
        int[] ids;
        try {
            ids = p.templated() ? tokenizer.encodeRaw(p.text()) : tokenizer.encode(p.text());
        } catch (RuntimeException e) {
            throw new InvalidRequestException("the prompt could not be tokenized");
        }
        if (ids.length == 0) {
            throw new InvalidRequestException("the prompt encodes to no tokens");
        }
        return ids;
    }

    /**
     * The prompt's ids if they leave room for {@code maxNewTokens} in the context; else, when the
     * request allows it, its last tokens that do (left truncation, as the serving systems do it).
     */
    private int[] fit(int[] ids, int maxNewTokens, boolean truncate) {
        int context = config.maxPositions;
        long needed = (long) ids.length + maxNewTokens;
        if (needed <= context) {
            return ids;
        }
        int room = context - maxNewTokens;
        if (!truncate || room < 1) {
            String what = ids.length >= context
                    ? "prompt of " + ids.length + " tokens does not fit the context of " + context + " tokens"
                    : "prompt of " + ids.length + " tokens plus max_new_tokens " + maxNewTokens + " exceeds the context of "
                    + context + " tokens";
            throw new InvalidRequestException(what + ": shorten the prompt, lower max_new_tokens"
                    + (room < 1 ? "" : ", or set truncate_prompt to keep the prompt's last " + room + " tokens"));
        }
        return Arrays.copyOfRange(ids, ids.length - room, ids.length);
    }

    private static SamplingParams samplingParams(GenerationRequest r) {
        Set<Integer> stopIds = new HashSet<>(r.getStopTokenIds());
        return new SamplingParams(r.getMaxNewTokens(), r.getTemperature(), r.getTopK(), r.getTopP(), r.getSeed(),
                stopIds, r.getStop(), r.getIgnoreEos());
    }

    /** Whether every surrogate in {@code s} is part of a pair. */
    static boolean wellFormed(CharSequence s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }
}

package dev.specdec.job.gateway;

import dev.specdec.records.GenerationRequest;

/**
 * One parsed OpenAI API call: which endpoint, how to answer (at once or as server-sent events) and
 * the job request it becomes. The request id is the OpenAI response id ({@code cmpl-...} or
 * {@code chatcmpl-...}), so a result on Kafka and the HTTP answer name the same thing.
 */
public record OpenAiCall(Kind kind, String model, boolean stream, boolean includeUsage, long createdSeconds,
                         GenerationRequest request) {

    public enum Kind {
        /** {@code POST /v1/completions}: a prompt, answered with {@code text_completion} objects. */
        COMPLETION("cmpl-", "text_completion", "text_completion"),
        /** {@code POST /v1/chat/completions}: messages, answered with {@code chat.completion} objects. */
        CHAT("chatcmpl-", "chat.completion", "chat.completion.chunk");

        final String idPrefix;
        final String object;
        final String chunkObject;

        Kind(String idPrefix, String object, String chunkObject) {
            this.idPrefix = idPrefix;
            this.object = object;
            this.chunkObject = chunkObject;
        }
    }

    public String id() {
        return request.getRequestId();
    }
}

package dev.specdec.job.gateway;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.records.FinishReason;
import dev.specdec.records.GenerationResult;

/**
 * The OpenAI API's response objects, built from the job's results and chunks: a whole
 * {@code text_completion} / {@code chat.completion}, the streamed {@code *.chunk} events, the usage
 * event and the model list.
 */
final class OpenAiJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private OpenAiJson() {
    }

    /** The whole answer to a call made without {@code stream}. */
    static ObjectNode completion(OpenAiCall call, GenerationResult r) {
        ObjectNode choice = F.objectNode().put("index", 0);
        if (call.kind() == OpenAiCall.Kind.CHAT) {
            choice.set("message", F.objectNode().put("role", "assistant").put("content", r.getText()));
        } else {
            choice.put("text", r.getText());
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(r.getFinishReason()));
        ObjectNode root = head(call, call.kind().object);
        root.set("choices", F.arrayNode().add(choice));
        root.set("usage", usage(r));
        return root;
    }

    /** A streamed event that adds {@code text} (and, for chat, on the first event, the role). */
    static ObjectNode delta(OpenAiCall call, String text, boolean first) {
        ObjectNode choice = F.objectNode().put("index", 0);
        if (call.kind() == OpenAiCall.Kind.CHAT) {
            ObjectNode delta = F.objectNode();
            if (first) {
                delta.put("role", "assistant");
            }
            choice.set("delta", delta.put("content", text));
        } else {
            choice.put("text", text);
        }
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return withChoice(call, choice);
    }

    /** The streamed event that ends the choice: no text, the finish reason. */
    static ObjectNode finish(OpenAiCall call, FinishReason reason) {
        ObjectNode choice = F.objectNode().put("index", 0);
        if (call.kind() == OpenAiCall.Kind.CHAT) {
            choice.set("delta", F.objectNode());
        } else {
            choice.put("text", "");
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(reason));
        return withChoice(call, choice);
    }

    /** The last streamed event when the client asked for {@code stream_options.include_usage}. */
    static ObjectNode usageEvent(OpenAiCall call, GenerationResult r) {
        ObjectNode root = head(call, call.kind().chunkObject);
        root.set("choices", F.arrayNode());
        root.set("usage", usage(r));
        return root;
    }

    static ObjectNode model(String model, long createdSeconds) {
        return F.objectNode().put("id", model).put("object", "model").put("created", createdSeconds).put("owned_by", "specdec");
    }

    static ObjectNode models(String model, long createdSeconds) {
        ArrayNode data = F.arrayNode();
        data.add(model(model, createdSeconds));
        ObjectNode root = F.objectNode().put("object", "list");
        root.set("data", data);
        return root;
    }

    /** OpenAI's finish reasons: stop (EOS, stop token or stop string) and length. */
    static String finishReason(FinishReason reason) {
        return reason == FinishReason.LENGTH ? "length" : "stop";
    }

    private static ObjectNode withChoice(OpenAiCall call, ObjectNode choice) {
        ObjectNode root = head(call, call.kind().chunkObject);
        root.set("choices", F.arrayNode().add(choice));
        return root;
    }

    private static ObjectNode head(OpenAiCall call, String object) {
        return F.objectNode().put("id", call.id()).put("object", object).put("created", call.createdSeconds())
                .put("model", call.model());
    }

    private static ObjectNode usage(GenerationResult r) {
        int prompt = r.getUsage().getPromptTokens();
        int completion = r.getUsage().getCompletionTokens();
        return F.objectNode().put("prompt_tokens", prompt).put("completion_tokens", completion)
                .put("total_tokens", prompt + completion);
    }
}

package dev.specdec.job.gateway;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An answer the OpenAI API gives as an HTTP error: a status and the body
 * {@code {"error": {"message", "type", "param", "code"}}} that OpenAI clients parse into their own
 * exception types (400 BadRequestError, 404 NotFoundError, 429 RateLimitError, ...).
 */
public final class OpenAiError extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public OpenAiError(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: a parameter the gateway refuses; {@code param} names it. */
    public static OpenAiError invalid(String param, String message) {
        return new OpenAiError(400, "invalid_request_error", param, null, message);
    }

    /** 400: a parameter of the OpenAI API this gateway does not offer. */
    public static OpenAiError unsupported(String param, String message) {
        return new OpenAiError(400, "invalid_request_error", param, "unsupported_parameter", message);
    }

    public int status() {
        return status;
    }

    public ObjectNode body() {
        ObjectNode e = JsonNodeFactory.instance.objectNode();
        e.put("message", getMessage());
        e.put("type", type);
        if (param == null) {
            e.putNull("param");
        } else {
            e.put("param", param);
        }
        if (code == null) {
            e.putNull("code");
        } else {
            e.put("code", code);
        }
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.set("error", e);
        return root;
    }
}

package dev.specdec.job.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The HTTP routes of the OpenAI API the gateway offers: {@code POST /v1/completions},
 * {@code POST /v1/chat/completions}, {@code GET /v1/models} and {@code GET /health}. A call is parsed,
 * admitted to the pending table, sent to the job, and then left to its {@link Answer}: the handler
 * returns at once and the Kafka reader thread completes the exchange.
 */
final class OpenAiRoutes extends Handler.Abstract {
    static final int MAX_BODY_BYTES = 8 << 20;

    private final GatewaySettings settings;
    private final OpenAiParams params;
    private final PendingAnswers pending;
    private final JobInputs inputs;
    private final JobOutputs outputs;
    private final long startedSeconds = System.currentTimeMillis() / 1000;

    OpenAiRoutes(GatewaySettings settings, PendingAnswers pending, JobInputs inputs, JobOutputs outputs) {
        this.settings = settings;
        this.params = new OpenAiParams(settings.servedModel(), settings.chatDefaultMaxTokens(), settings.plainChatFallback());
        this.pending = pending;
        this.inputs = inputs;
        this.outputs = outputs;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        try {
            // Read a call's body before any answer, so that a refusal leaves the connection reusable.
            byte[] body = method.equals("POST") ? readBody(request, response) : new byte[0];
            if (path.equals("/health")) {
                health(response, callback);
            } else if (!authorized(request)) {
                throw new OpenAiError(401, "invalid_request_error", null, "invalid_api_key",
                        "missing or wrong API key (send Authorization: Bearer KEY)");
            } else if (path.equals("/v1/models") && method.equals("GET")) {
                Answer.writeJson(response, callback, 200, OpenAiJson.models(settings.servedModel(), startedSeconds));
            } else if (path.startsWith("/v1/models/") && method.equals("GET")) {
                Answer.writeJson(response, callback, 200, model(path.substring("/v1/models/".length())));
            } else if (path.equals("/v1/completions") && method.equals("POST")) {
                start(params.completion(json(body)), request, response, callback);
            } else if (path.equals("/v1/chat/completions") && method.equals("POST")) {
                start(params.chat(json(body)), request, response, callback);
            } else {
                throw new OpenAiError(404, "invalid_request_error", null, "unknown_url",
                        "no route " + method + " " + path + "; this server offers POST /v1/completions,"
                                + " POST /v1/chat/completions, GET /v1/models and GET /health");
            }
        } catch (OpenAiError e) {
            Answer.writeJson(response, callback, e.status(), e.body());
        }
        return true;
    }

    /** Admits the call, sends its request to the job and leaves the answer to the job's outputs. */
    private void start(OpenAiCall call, Request request, Response response, Callback callback) {
        if (call.stream() && settings.chunksTopic() == null) {
            throw OpenAiError.unsupported("stream", "streaming needs the job's chunk topic (start the job with --chunk-topic)");
        }
        if (!outputs.ready()) {
            throw new OpenAiError(503, "service_unavailable", null, null, "the gateway is not connected to the job's topics yet");
        }
        Answer answer = call.stream()
                ? new StreamedAnswer(call, response, callback, pending::abandon)
                : new BufferedAnswer(call, response, callback);
        if (!pending.admit(answer)) {
            response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
            throw new OpenAiError(429, "rate_limit_exceeded", null, "too_many_pending",
                    "the gateway already waits for " + settings.maxPending() + " requests; retry later");
        }
        response.getHeaders().put("x-request-id", call.id());
        request.addFailureListener(failure -> pending.abandon(answer));   // the client went away
        if (!call.stream()) {
            // The watch reads the connection, so it must not be reused for another call after this one.
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            ClientWatch.watch(request, () -> pending.abandon(answer));
        }
        inputs.send(call.request()).whenComplete((ok, error) -> {
            if (error != null) {
                pending.fail(answer, new OpenAiError(503, "service_unavailable", null, null,
                        "the job's requests topic did not take the request: " + error.getMessage()));
            }
        });
    }

    /** {@code GET /v1/models/{id}}: the served model, or OpenAI's 404 for any other id. */
    private ObjectNode model(String id) {
        if (!id.equals(settings.servedModel())) {
            throw new OpenAiError(404, "invalid_request_error", "model", "model_not_found",
                    "The model '" + id + "' does not exist; this server has '" + settings.servedModel() + "'");
        }
        return OpenAiJson.model(id, startedSeconds);
    }

    private void health(Response response, Callback callback) {
        boolean up = outputs.ready();
        Answer.writeJson(response, callback, up ? 200 : 503, JsonNodeFactory.instance.objectNode()
                .put("status", up ? "ok" : "starting").put("pending", pending.size()));
    }

    private boolean authorized(Request request) {
        if (settings.apiKey() == null) {
            return true;
        }
        String given = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        String expected = "Bearer " + settings.apiKey();
        return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                expected.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] readBody(Request request, Response response) {
        byte[] bytes;
        try (InputStream in = Content.Source.asInputStream(request)) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        } catch (IOException e) {
            throw OpenAiError.invalid(null, "could not read the request body: " + e.getMessage());
        }
        if (bytes.length > MAX_BODY_BYTES) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");   // the rest of the body stays unread
            throw new OpenAiError(413, "invalid_request_error", null, "body_too_large",
                    "the request body is larger than " + (MAX_BODY_BYTES >> 20) + " MiB");
        }
        return bytes;
    }

    private static JsonNode json(byte[] body) {
        try {
            return Answer.JSON.readTree(body);
        } catch (IOException e) {
            throw OpenAiError.invalid(null, "the request body is not valid JSON");
        }
    }
}

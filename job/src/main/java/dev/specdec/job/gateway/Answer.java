package dev.specdec.job.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.records.FinishReason;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.TokenChunk;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The HTTP side of one pending call: it hears the job's chunks and result for its request id and
 * answers the client once. The two forms are {@link BufferedAnswer} (one JSON body at the end) and
 * {@link StreamedAnswer} (server-sent events as chunks arrive). Every method may be called from the
 * Kafka reader thread, the ticker or Jetty; {@link #claimEnd()} makes the ending happen once.
 */
abstract class Answer {
    static final ObjectMapper JSON = new ObjectMapper();

    final OpenAiCall call;
    final Response response;
    final Callback callback;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile long lastSignNanos = System.nanoTime();

    Answer(OpenAiCall call, Response response, Callback callback) {
        this.call = call;
        this.response = response;
        this.callback = callback;
    }

    String id() {
        return call.id();
    }

    /** A chunk of this request's output arrived (possibly again, after a recovery of the job). */
    abstract void onChunk(TokenChunk chunk);

    /** The request's committed result arrived; the answer ends. */
    abstract void onResult(GenerationResult result);

    /** The job said nothing about this request for too long, or could not be reached; the answer ends. */
    abstract void onJobSilent(OpenAiError error);

    /** Once a second: a stream writes a keep-alive comment when it has been quiet. */
    void tick(long nowNanos) {
    }

    void heardFromJob() {
        lastSignNanos = System.nanoTime();
    }

    long silentNanos(long nowNanos) {
        return nowNanos - lastSignNanos;
    }

    boolean ended() {
        return ended.get();
    }

    /** True for the one caller that may end the exchange. */
    boolean claimEnd() {
        return ended.compareAndSet(false, true);
    }

    /** A result that is not a completion: the job refused the request or gave up on it. */
    static OpenAiError errorOf(GenerationResult r) {
        if (r.getFinishReason() == FinishReason.CANCELLED) {
            return new OpenAiError(504, "timeout", null, "request_timeout",
                    "the job stopped the request at its deadline" + (r.getError() == null ? "" : ": " + r.getError()));
        }
        String why = r.getError() == null ? "the job could not complete the request" : r.getError().toString();
        return new OpenAiError(400, "invalid_request_error", null, null, why);
    }

    static boolean isCompletion(GenerationResult r) {
        return r.getFinishReason() == FinishReason.STOP || r.getFinishReason() == FinishReason.LENGTH;
    }

    /** Ends an exchange with one JSON body. */
    static void writeJson(Response response, Callback callback, int status, ObjectNode body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (Exception e) {
            callback.failed(e);
            return;
        }
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }
}

package dev.specdec.job.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * Server-sent events on one Jetty response, written without blocking the caller: Jetty allows one
 * pending write per response, so events queue here and the next is written when the previous one
 * completes. The first event commits status 200 and {@code text/event-stream}; {@link #done()} writes
 * {@code data: [DONE]} and completes the exchange. A failed write (the client went away) fails the
 * exchange and is reported once.
 */
final class SseWriter {
    private final Response response;
    private final Callback exchange;
    private final Consumer<Throwable> onFailure;
    private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
    private boolean writing;
    private boolean closing;
    private boolean closed;
    private boolean headersSet;
    private volatile long lastWriteNanos = System.nanoTime();

    SseWriter(Response response, Callback exchange, Consumer<Throwable> onFailure) {
        this.response = response;
        this.exchange = exchange;
        this.onFailure = onFailure;
    }

    synchronized void send(JsonNode event) {
        enqueue("data: " + event.toString() + "\n\n");
    }

    synchronized void comment(String text) {
        enqueue(": " + text + "\n\n");
    }

    /** Ends the stream after what is queued, the way OpenAI's streams end. */
    synchronized void done() {
        if (closing) {
            return;
        }
        enqueue("data: [DONE]\n\n");
        closing = true;
        pump();
    }

    long quietNanos(long nowNanos) {
        return nowNanos - lastWriteNanos;
    }

    private void enqueue(String text) {
        if (closing) {
            return;
        }
        queue.add(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
        pump();
    }

    private void pump() {
        if (writing || closed) {
            return;
        }
        if (!headersSet) {
            headersSet = true;
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        }
        ByteBuffer next = queue.poll();
        if (next == null) {
            if (closing) {
                closed = true;
                writing = true;
                response.write(true, BufferUtil.EMPTY_BUFFER, exchange);
            }
            return;
        }
        writing = true;
        lastWriteNanos = System.nanoTime();
        response.write(false, next, Callback.from(this::written, this::failed));
    }

    private synchronized void written() {
        writing = false;
        pump();
    }

    private void failed(Throwable cause) {
        synchronized (this) {
            closed = true;
            queue.clear();
        }
        exchange.failed(cause);
        onFailure.accept(cause);
    }
}

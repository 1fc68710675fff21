package dev.specdec.job.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.TokenChunk;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A call made with {@code stream: true}: each chunk's new text becomes an event as soon as the job
 * decodes it; the committed result adds whatever text the chunks did not carry, the finish reason,
 * the usage (when asked) and {@code [DONE]}. So the streamed text always equals the result's text.
 * Chunks are placed by their code-point offset, so chunks repeated after a job recovery add nothing.
 * Until the first event the answer can still be a plain HTTP error (e.g. 400 for a prompt the job
 * refused); after it, errors travel as an {@code error} event, as OpenAI's own streams do.
 */
final class StreamedAnswer extends Answer {
    private static final long KEEP_ALIVE_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final SseWriter events;
    private final Consumer<Answer> clientGone;
    private int sentCodePoints;
    private boolean started;

    StreamedAnswer(OpenAiCall call, Response response, Callback callback, Consumer<Answer> clientGone) {
        super(call, response, callback);
        this.events = new SseWriter(response, callback, this::writeFailed);
        this.clientGone = clientGone;
    }

    @Override
    synchronized void onChunk(TokenChunk chunk) {
        heardFromJob();
        if (ended()) {
            return;
        }
        String fresh = unsent(sentCodePoints, chunk.getTextOffset(), chunk.getText().toString());
        if (fresh != null) {
            sendText(fresh);
        }
    }

    /**
     * The part of a chunk's text (starting at code point {@code offset}) after the first {@code sent}
     * code points, or null when it adds nothing or leaves a gap (the result fills gaps).
     */
    static String unsent(int sent, int offset, String text) {
        int length = text.codePointCount(0, text.length());
        if (offset > sent || offset + length <= sent) {
            return null;
        }
        return text.substring(text.offsetByCodePoints(0, sent - offset));
    }

    @Override
    synchronized void onResult(GenerationResult result) {
        if (!isCompletion(result)) {
            fail(errorOf(result));
            return;
        }
        if (!claimEnd()) {
            return;
        }
        String text = result.getText().toString();
        int total = text.codePointCount(0, text.length());
        if (total > sentCodePoints) {
            sendText(text.substring(text.offsetByCodePoints(0, sentCodePoints)));
        } else if (!started) {
            sendText("");   // a chat stream names the role even when the answer is empty
        }
        events.send(OpenAiJson.finish(call, result.getFinishReason()));
        if (call.includeUsage()) {
            events.send(OpenAiJson.usageEvent(call, result));
        }
        events.done();
    }

    @Override
    synchronized void onJobSilent(OpenAiError error) {
        fail(error);
    }

    @Override
    synchronized void tick(long nowNanos) {
        if (started && !ended() && events.quietNanos(nowNanos) > KEEP_ALIVE_NANOS) {
            events.comment("keep-alive");   // also finds clients that went away while the job is quiet
        }
    }

    private void sendText(String text) {
        events.send(OpenAiJson.delta(call, text, !started));
        started = true;
        sentCodePoints += text.codePointCount(0, text.length());
    }

    private void fail(OpenAiError error) {
        if (!claimEnd()) {
            return;
        }
        if (!started) {
            writeJson(response, callback, error.status(), error.body());
            return;
        }
        ObjectNode body = error.body();
        events.send(body);
        events.done();
    }

    private void writeFailed(Throwable cause) {
        if (claimEnd()) {
            clientGone.accept(this);
        }
    }
}

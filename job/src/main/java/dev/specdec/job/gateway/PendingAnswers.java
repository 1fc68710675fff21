package dev.specdec.job.gateway;

import dev.specdec.records.GenerationResult;
import dev.specdec.records.TokenChunk;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The gateway's bounded table of calls waiting for the job, keyed by request id. It routes the job's
 * chunks and results to their answer, ends answers whose request the job has been silent about for
 * too long (503), and asks the job to cancel every request nobody waits for any more: the client went
 * away, or the gateway gave up. A full table refuses new calls (the caller answers 429).
 */
final class PendingAnswers implements AutoCloseable {
    private final Map<String, Answer> byId = new ConcurrentHashMap<>();
    private final int capacity;
    private final long silenceNanos;
    private final Consumer<String> cancelInJob;
    private final ScheduledExecutorService ticker;

    PendingAnswers(int capacity, Duration silence, Consumer<String> cancelInJob) {
        this.capacity = capacity;
        this.silenceNanos = silence.toNanos();
        this.cancelInJob = cancelInJob;
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "specdec-gateway-ticker");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    /** Adds a call unless the table is full. */
    synchronized boolean admit(Answer answer) {
        if (byId.size() >= capacity) {
            return false;
        }
        byId.put(answer.id(), answer);
        return true;
    }

    int size() {
        return byId.size();
    }

    void onChunk(TokenChunk chunk) {
        Answer a = byId.get(chunk.getRequestId().toString());
        if (a != null) {
            a.onChunk(chunk);
        }
    }

    void onResult(GenerationResult result) {
        Answer a = byId.remove(result.getRequestId().toString());
        if (a != null) {
            a.onResult(result);
        }
    }

    /** Nobody waits for this call any more: forget it and stop its request in the job. */
    void abandon(Answer answer) {
        if (byId.remove(answer.id(), answer)) {
            cancelInJob.accept(answer.id());
        }
    }

    /** The job cannot answer this call: forget it and answer the client with {@code error}; false if already gone. */
    boolean fail(Answer answer, OpenAiError error) {
        if (byId.remove(answer.id(), answer)) {
            answer.onJobSilent(error);
            return true;
        }
        return false;
    }

    private void tick() {
        long now = System.nanoTime();
        for (Answer a : byId.values()) {
            if (a.silentNanos(now) > silenceNanos) {
                OpenAiError silent = new OpenAiError(503, "service_unavailable", null, "job_not_answering",
                        "the job did not answer within " + TimeUnit.NANOSECONDS.toSeconds(silenceNanos)
                                + " s; the request was cancelled");
                if (fail(a, silent)) {
                    cancelInJob.accept(a.id());
                }
            } else {
                a.tick(now);
            }
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        for (Answer a : byId.values()) {
            fail(a, new OpenAiError(503, "service_unavailable", null, null, "the gateway is shutting down"));
        }
    }
}

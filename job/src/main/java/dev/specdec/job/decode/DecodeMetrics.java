package dev.specdec.job.decode;

import dev.specdec.engine.request.Finish;
import dev.specdec.engine.serve.SequenceUpdate;
import dev.specdec.engine.serve.StepOutcome;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;

/**
 * The decode operator's metrics, as the dashboard shows them: the operator's own (requests, engine
 * utilisation, KV memory, batch), group {@code draft} (accepted tokens, mean acceptance length,
 * draft time per step) and group {@code verify} (tokens and steps per second, verify and prefill
 * time). Everything is updated from the engine's outcomes on the task thread; gauges are read by
 * Flink's reporter threads, hence the volatile fields.
 */
final class DecodeMetrics {
    /** Weight of the newest step in the smoothed acceptance length. */
    private static final double SMOOTHING = 0.1;

    private final EngineUtilisation utilisation = new EngineUtilisation();
    private final Counter completed;
    private final Counter failed;
    private final Counter cancelled;
    private final Counter restored;
    private final Counter engineBusyMicros;
    private final Counter acceptedTokens;
    private final Counter tokens;
    private final Counter steps;
    private volatile int queued;
    private volatile int active;
    private volatile int lastBatch;
    private volatile int intraOpThreads;
    private volatile long kvUsedBytes;
    private volatile long kvAllocatedBytes;
    private volatile long tensorSnapshotBytes;
    private volatile double tensorSnapshotMillis;
    private volatile double meanAcceptanceLength;
    private volatile double draftMillisPerStep;
    private volatile double verifyMillisPerStep;
    private volatile double prefillMillisPerRequest;

    DecodeMetrics(MetricGroup g, String device) {
        completed = g.counter("completedRequests");
        failed = g.counter("failedRequests");
        cancelled = g.counter("cancelledRequests");
        restored = g.counter("restoredRequests");
        engineBusyMicros = g.counter("engineBusyMicros");
        g.gauge("activeRequests", () -> active);
        g.gauge("queuedRequests", () -> queued);
        g.gauge("batchSize", () -> lastBatch);
        g.gauge("kvCacheBytes", () -> kvUsedBytes);
        g.gauge("kvCacheAllocatedBytes", () -> kvAllocatedBytes);
        g.gauge("engineUtilisation", utilisation::value);
        g.gauge("intraOpThreads", () -> intraOpThreads);
        g.gauge("tensorSnapshotBytes", () -> tensorSnapshotBytes);
        g.gauge("tensorSnapshotMillis", () -> tensorSnapshotMillis);
        MetricGroup draft = g.addGroup("draft");
        acceptedTokens = draft.counter("acceptedTokens");
        draft.gauge("meanAcceptanceLength", () -> meanAcceptanceLength);
        draft.gauge("draftMillisPerStep", () -> draftMillisPerStep);
        draft.gauge("device", () -> device);
        MetricGroup verify = g.addGroup("verify");
        tokens = verify.counter("tokens");
        steps = verify.counter("steps");
        verify.meter("tokensPerSecond", new MeterView(tokens));
        verify.meter("stepsPerSecond", new MeterView(steps));
        verify.gauge("verifyMillisPerStep", () -> verifyMillisPerStep);
        verify.gauge("prefillMillisPerRequest", () -> prefillMillisPerRequest);
        verify.gauge("device", () -> device);
    }

    void intraOpThreads(int n) {
        intraOpThreads = n;
    }

    void restored(int requests) {
        restored.inc(requests);
    }

    void tensorSnapshot(long bytes, double millis) {
        tensorSnapshotBytes = bytes;
        tensorSnapshotMillis = millis;
    }

    void finished(Finish reason) {
        switch (reason) {
            case ERROR -> failed.inc();
            case CANCELLED -> cancelled.inc();
            default -> completed.inc();
        }
    }

    /** Folds one engine call into the metrics: its time, memory, batch, and its requests' counters. */
    void observe(StepOutcome o) {
        if (o.busyNanos() > 0) {
            utilisation.add(o.busyNanos());
            engineBusyMicros.inc(o.busyNanos() / 1000);
            kvUsedBytes = o.kvUsedBytes();
            kvAllocatedBytes = o.kvAllocatedBytes();
            lastBatch = o.batchSize();
        }
        active = o.liveRequests();
        queued = o.queuedRequests();
        int requestSteps = 0;
        int stepTokens = 0;
        int prefills = 0;
        long verifyNanos = 0;
        long draftNanos = 0;
        long prefillNanos = 0;
        for (SequenceUpdate u : o.updates()) {
            tokens.inc(u.newTokens().length);
            acceptedTokens.inc(u.counters().acceptedDraftTokens);
            requestSteps += u.counters().steps;
            stepTokens += u.counters().stepTokens;
            verifyNanos += u.counters().verifyNanos;
            draftNanos += u.counters().draftNanos;
            prefillNanos += u.counters().prefillNanos;
            prefills += u.times().startedMicros() != 0 ? 1 : 0;
        }
        int batched = o.batchSize() > 0 ? 1 : 0;
        steps.inc(batched);
        if (batched > 0) {
            verifyMillisPerStep = verifyNanos / 1e6;
            draftMillisPerStep = draftNanos / 1e6;
        }
        if (prefills > 0) {
            prefillMillisPerRequest = prefillNanos / 1e6 / prefills;
        }
        if (requestSteps > 0) {
            double beta = (double) stepTokens / requestSteps;
            double prev = meanAcceptanceLength;
            meanAcceptanceLength = prev == 0 ? beta : prev + SMOOTHING * (beta - prev);
        }
    }
}

package dev.specdec.job.decode;

import dev.specdec.engine.serve.SequenceUpdate;
import dev.specdec.engine.serve.StepOutcome;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.Timings;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The decode operator's metrics, as the dashboard shows them and Prometheus scrapes them: the
 * operator's own (requests, prompt tokens, engine utilisation, KV memory, batch, latency histograms
 * of finished requests), and under the key-value group {@code device} (a label in Prometheus) group
 * {@code draft} (tokens proposed and accepted, per-request steps and their tokens, so the mean
 * acceptance length is exact at any batch size as stepTokens / requestSteps; draft time per step)
 * and group {@code verify} (tokens and batched steps, their rates, verify and prefill time).
 * Everything is updated from the engine's outcomes on the task thread; gauges are read by Flink's
 * reporter threads, hence the volatile fields.
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
    private final Counter promptTokens;
    private final Counter proposedTokens;
    private final Counter acceptedTokens;
    private final Counter requestSteps;
    private final Counter stepTokens;
    private final Histogram queueMillis;
    private final Histogram firstTokenMillis;
    private final Histogram timePerOutputTokenMillis;
    private final Histogram totalMillis;
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
        promptTokens = g.counter("promptTokens");
        queueMillis = g.histogram("queueMillis", histogram());
        firstTokenMillis = g.histogram("firstTokenMillis", histogram());
        timePerOutputTokenMillis = g.histogram("timePerOutputTokenMillis", histogram());
        totalMillis = g.histogram("totalMillis", histogram());
        g.gauge("activeRequests", () -> active);
        g.gauge("queuedRequests", () -> queued);
        g.gauge("batchSize", () -> lastBatch);
        g.gauge("kvCacheBytes", () -> kvUsedBytes);
        g.gauge("kvCacheAllocatedBytes", () -> kvAllocatedBytes);
        g.gauge("engineUtilisation", utilisation::value);
        g.gauge("intraOpThreads", () -> intraOpThreads);
        g.gauge("tensorSnapshotBytes", () -> tensorSnapshotBytes);
        g.gauge("tensorSnapshotMillis", () -> tensorSnapshotMillis);
        MetricGroup onDevice = g.addGroup("device", device);
        MetricGroup draft = onDevice.addGroup("draft");
        proposedTokens = draft.counter("proposedTokens");
        acceptedTokens = draft.counter("acceptedTokens");
        requestSteps = draft.counter("requestSteps");
        stepTokens = draft.counter("stepTokens");
        draft.gauge("meanAcceptanceLength", () -> meanAcceptanceLength);
        draft.gauge("draftMillisPerStep", () -> draftMillisPerStep);
        MetricGroup verify = onDevice.addGroup("verify");
        tokens = verify.counter("tokens");
        steps = verify.counter("steps");
        verify.meter("tokensPerSecond", new MeterView(tokens));
        verify.meter("stepsPerSecond", new MeterView(steps));
        verify.gauge("verifyMillisPerStep", () -> verifyMillisPerStep);
        verify.gauge("prefillMillisPerRequest", () -> prefillMillisPerRequest);
    }

    /** Percentiles over the last 1,024 requests of this subtask. */
    private static Histogram histogram() {
        return new DescriptiveStatisticsHistogram(1024);
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

    /** Counts a result and, for a decoded one, its latencies. */
    void finished(GenerationResult r) {
        switch (r.getFinishReason()) {
            case ERROR -> failed.inc();
            case CANCELLED -> cancelled.inc();
            default -> completed.inc();
        }
        promptTokens.inc(r.getUsage().getPromptTokens());
        int generated = r.getUsage().getCompletionTokens();
        if (generated == 0) {
            return;
        }
        Timings t = r.getTimings();
        queueMillis.update(Math.round(t.getQueueMs()));
        firstTokenMillis.update(Math.round(t.getFirstTokenMs()));
        totalMillis.update(Math.round(t.getTotalMs()));
        if (generated > 1) {
            timePerOutputTokenMillis.update(Math.round((t.getTotalMs() - t.getFirstTokenMs()) / (generated - 1)));
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
        int stepsOfRequests = 0;
        int tokensOfSteps = 0;
        int prefills = 0;
        long verifyNanos = 0;
        long draftNanos = 0;
        long prefillNanos = 0;
        for (SequenceUpdate u : o.updates()) {
            tokens.inc(u.newTokens().length);
            proposedTokens.inc(u.counters().draftedTokens);
            acceptedTokens.inc(u.counters().acceptedDraftTokens);
            stepsOfRequests += u.counters().steps;
            tokensOfSteps += u.counters().stepTokens;
            verifyNanos += u.counters().verifyNanos;
            draftNanos += u.counters().draftNanos;
            prefillNanos += u.counters().prefillNanos;
            prefills += u.times().startedMicros() != 0 ? 1 : 0;
        }
        requestSteps.inc(stepsOfRequests);
        stepTokens.inc(tokensOfSteps);
        int batched = o.batchSize() > 0 ? 1 : 0;
        steps.inc(batched);
        if (batched > 0) {
            verifyMillisPerStep = verifyNanos / 1e6;
            draftMillisPerStep = draftNanos / 1e6;
        }
        if (prefills > 0) {
            prefillMillisPerRequest = prefillNanos / 1e6 / prefills;
        }
        if (stepsOfRequests > 0) {
            double beta = (double) tokensOfSteps / stepsOfRequests;
            double prev = meanAcceptanceLength;
            meanAcceptanceLength = prev == 0 ? beta : prev + SMOOTHING * (beta - prev);
        }
    }
}

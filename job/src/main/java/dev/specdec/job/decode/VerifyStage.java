package dev.specdec.job.decode;

import dev.specdec.job.state.KvCacheHandle;
import dev.specdec.job.state.KvCacheHandleSerializer;
import dev.specdec.job.state.VerifyProgress;
import dev.specdec.job.state.VerifyProgressSerializer;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;

import java.io.IOException;
import java.util.function.Function;

/**
 * The verify stage of the decode loop: the base model's forward over each request's candidate
 * tokens, which commits the accepted ones. It owns two keyed states, {@code verify} (committed
 * tokens, counters; with the seed, the sampler state) and {@code kv-cache} (the checkpoint form of the
 * base KV cache, see {@link KvCacheHandle}), and the metric group {@code verify}: tokens and steps
 * per second, verify and prefill time, its device.
 */
final class VerifyStage {
    static final ValueStateDescriptor<VerifyProgress> PROGRESS =
            new ValueStateDescriptor<>("verify", new VerifyProgressSerializer());
    static final ValueStateDescriptor<KvCacheHandle> CACHE =
            new ValueStateDescriptor<>("kv-cache", new KvCacheHandleSerializer());

    private final ValueState<VerifyProgress> progress;
    private final ValueState<KvCacheHandle> cache;
    private final Counter tokens;
    private final Counter steps;
    private volatile double verifyMillisPerStep;
    private volatile double prefillMillisPerRequest;

    VerifyStage(Function<ValueStateDescriptor<?>, ValueState<?>> states, MetricGroup operatorGroup, String device) {
        this.progress = cast(states.apply(PROGRESS));
        this.cache = cast(states.apply(CACHE));
        MetricGroup g = operatorGroup.addGroup("verify");
        this.tokens = g.counter("tokens");
        this.steps = g.counter("steps");
        g.meter("tokensPerSecond", new MeterView(tokens));
        g.meter("stepsPerSecond", new MeterView(steps));
        g.gauge("verifyMillisPerStep", () -> verifyMillisPerStep);
        g.gauge("prefillMillisPerRequest", () -> prefillMillisPerRequest);
        g.gauge("device", () -> device);
    }

    @SuppressWarnings("unchecked")
    private static <T> ValueState<T> cast(ValueState<?> s) {
        return (ValueState<T>) s;
    }

    /** The current key's progress, or null if it has not been prefilled. */
    VerifyProgress progress() throws IOException {
        return progress.value();
    }

    KvCacheHandle cache() throws IOException {
        return cache.value();
    }

    /** Commits an update's tokens and counters for the current key; returns the new progress. */
    VerifyProgress apply(SequenceUpdate u) throws IOException {
        VerifyProgress v = progress.value();
        if (v == null) {
            v = new VerifyProgress();
        }
        v.append(u.newTokens());
        v.steps += u.steps();
        v.stepTokens += u.stepTokens();
        v.verifyNanos += u.verifyNanos();
        v.prefillNanos += u.prefillNanos();
        if (u.startedMicros() != 0) {
            v.startedMicros = u.startedMicros();
        }
        if (u.firstTokenMicros() != 0) {
            v.firstTokenMicros = u.firstTokenMicros();
        }
        progress.update(v);
        // A new step makes any full-tensor snapshot stale: keep only the compact form until the next checkpoint.
        cache.update(KvCacheHandle.compact(u.kvRows()));
        tokens.inc(u.newTokens().length);
        return v;
    }

    /** Records a restored request's resumption. */
    void markRecovered() throws IOException {
        VerifyProgress v = progress.value();
        v.recoveries++;
        progress.update(v);
    }

    void storeSnapshot(KvCacheHandle h) {
        try {
            cache.update(h);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Folds one engine call's totals into the stage metrics. */
    void observe(int stepCalls, long verifyNanos, int prefills, long prefillNanos) {
        steps.inc(stepCalls);
        if (stepCalls > 0) {
            verifyMillisPerStep = verifyNanos / 1e6 / stepCalls;
        }
        if (prefills > 0) {
            prefillMillisPerRequest = prefillNanos / 1e6 / prefills;
        }
    }

    void clear() {
        progress.clear();
        cache.clear();
    }
}

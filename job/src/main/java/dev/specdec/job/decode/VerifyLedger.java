package dev.specdec.job.decode;

import dev.specdec.engine.serve.SequenceUpdate;
import dev.specdec.job.state.KvCacheHandle;
import dev.specdec.job.state.KvCacheHandleSerializer;
import dev.specdec.job.state.VerifyProgress;
import dev.specdec.job.state.VerifyProgressSerializer;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Function;

/**
 * The verify side of a request's keyed state: {@code verify} (the tokens the base model committed and
 * their counters; with the request's seed, also the sampler's state) and {@code kv-cache} (the
 * checkpoint form of the base KV cache, see {@link KvCacheHandle}). Each engine update is added here,
 * on the task thread, for the current key.
 */
final class VerifyLedger {
    static final ValueStateDescriptor<VerifyProgress> PROGRESS =
            new ValueStateDescriptor<>("verify", new VerifyProgressSerializer());
    static final ValueStateDescriptor<KvCacheHandle> CACHE =
            new ValueStateDescriptor<>("kv-cache", new KvCacheHandleSerializer());

    private final ValueState<VerifyProgress> progress;
    private final ValueState<KvCacheHandle> cache;

    VerifyLedger(Function<ValueStateDescriptor<?>, ValueState<?>> states) {
        this.progress = cast(states.apply(PROGRESS));
        this.cache = cast(states.apply(CACHE));
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
        v.steps += u.counters().steps;
        v.stepTokens += u.counters().stepTokens;
        v.verifyNanos += u.counters().verifyNanos;
        v.prefillNanos += u.counters().prefillNanos;
        if (u.times().startedMicros() != 0) {
            v.startedMicros = u.times().startedMicros();
        }
        if (u.times().firstTokenMicros() != 0) {
            v.firstTokenMicros = u.times().firstTokenMicros();
        }
        progress.update(v);
        // A new step makes any full-tensor snapshot stale: keep only the compact form until the next checkpoint.
        cache.update(KvCacheHandle.compact(u.kvRows()));
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
            throw new UncheckedIOException(e);
        }
    }

    void clear() {
        progress.clear();
        cache.clear();
    }
}

package dev.specdec.job.decode;

import dev.specdec.engine.serve.SequenceUpdate;
import dev.specdec.job.state.DraftProgress;
import dev.specdec.job.state.DraftProgressSerializer;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;

import java.io.IOException;
import java.util.function.Function;

/**
 * The draft side of a request's keyed state, {@code draft} ({@link DraftProgress}): which method
 * proposes its tokens and what that has achieved. Each engine update is added here, on the task
 * thread, for the current key.
 */
final class DraftLedger {
    static final ValueStateDescriptor<DraftProgress> PROGRESS =
            new ValueStateDescriptor<>("draft", new DraftProgressSerializer());

    private final ValueState<DraftProgress> progress;

    @SuppressWarnings("unchecked")
    DraftLedger(Function<ValueStateDescriptor<?>, ValueState<?>> states) {
        this.progress = (ValueState<DraftProgress>) states.apply(PROGRESS);
    }

    DraftProgress progress() throws IOException {
        return progress.value();
    }

    /** Adds an update's draft counters for the current key. */
    DraftProgress apply(SequenceUpdate u, String method) throws IOException {
        DraftProgress d = progress.value();
        if (d == null) {
            d = new DraftProgress(method);
        }
        d.acceptedTokens += u.counters().acceptedDraftTokens;
        d.draftNanos += u.counters().draftNanos;
        progress.update(d);
        return d;
    }

    /** Records that a restored request's drafter state was rebuilt (not imported). */
    void markRebuilt() throws IOException {
        DraftProgress d = progress.value();
        if (d != null) {
            d.rebuilds++;
            progress.update(d);
        }
    }

    void clear() {
        progress.clear();
    }
}

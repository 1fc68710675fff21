package dev.specdec.job.decode;

import dev.specdec.job.state.DraftProgress;
import dev.specdec.job.state.DraftProgressSerializer;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

import java.io.IOException;
import java.util.function.Function;

/**
 * The draft stage of the decode loop: the drafter's proposal of the next tokens of each request
 * (depth lists, then a candidate tree). It owns the keyed state {@code draft} ({@link DraftProgress})
 * and the metric group {@code draft}: accepted tokens, mean acceptance length (tokens per verify
 * step, smoothed), draft time per step, its device.
 */
final class DraftStage {
    static final ValueStateDescriptor<DraftProgress> PROGRESS =
            new ValueStateDescriptor<>("draft", new DraftProgressSerializer());

    /** Weight of the newest step in the smoothed acceptance length. */
    private static final double SMOOTHING = 0.1;

    private final ValueState<DraftProgress> progress;
    private final Counter accepted;
    private volatile double meanAcceptanceLength;
    private volatile double draftMillisPerStep;

    @SuppressWarnings("unchecked")
    DraftStage(Function<ValueStateDescriptor<?>, ValueState<?>> states, MetricGroup operatorGroup, String device) {
        this.progress = (ValueState<DraftProgress>) states.apply(PROGRESS);
        MetricGroup g = operatorGroup.addGroup("draft");
        this.accepted = g.counter("acceptedTokens");
        g.gauge("meanAcceptanceLength", () -> meanAcceptanceLength);
        g.gauge("draftMillisPerStep", () -> draftMillisPerStep);
        g.gauge("device", () -> device);
    }

    DraftProgress progress() throws IOException {
        return progress.value();
    }

    /** Adds an update's draft counters for the current key. */
    DraftProgress apply(SequenceUpdate u, String drafter) throws IOException {
        DraftProgress d = progress.value();
        if (d == null) {
            d = new DraftProgress(drafter);
        }
        d.acceptedTokens += u.acceptedTokens();
        d.draftNanos += u.draftNanos();
        progress.update(d);
        accepted.inc(u.acceptedTokens());
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

    /**
     * Folds one engine call's totals into the stage metrics: {@code batchedSteps} batched steps (0 or
     * 1 per call) that advanced requests by {@code requestSteps} request-steps emitting {@code stepTokens}.
     */
    void observe(int batchedSteps, int requestSteps, int stepTokens, long draftNanos) {
        if (requestSteps > 0) {
            double beta = (double) stepTokens / requestSteps;
            double prev = meanAcceptanceLength;
            meanAcceptanceLength = prev == 0 ? beta : prev + SMOOTHING * (beta - prev);
        }
        if (batchedSteps > 0) {
            draftMillisPerStep = draftNanos / 1e6 / batchedSteps;
        }
    }

    void clear() {
        progress.clear();
    }
}

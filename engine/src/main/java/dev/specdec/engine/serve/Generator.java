package dev.specdec.engine.serve;

import dev.specdec.engine.EngineSession;
import dev.specdec.engine.decode.DecodeStats;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.request.Completion;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs a list of requests to completion through a {@link BatchScheduler} on the calling thread and
 * adds up each request's updates into its {@link Completion}: the engine commands' way to decode.
 */
public final class Generator {
    private Generator() {
    }

    /** All requests with one decoder, at the session's batch size; results in request order. */
    public static List<Completion> run(EngineSession session, Decoder decoder, List<DecodeRequest> requests) {
        return run(session, decoder, session.maxBatch(), requests);
    }

    /** All requests with one decoder, at most {@code maxBatch} at a time; results in request order. */
    public static List<Completion> run(EngineSession session, Decoder decoder, int maxBatch, List<DecodeRequest> requests) {
        try (BatchScheduler scheduler = BatchScheduler.over(session, decoder, maxBatch)) {
            return run(scheduler, decoder.method(), requests, c -> { });
        }
    }

    /**
     * All requests with one method; each completion is also passed to {@code onResult} as soon as its
     * request ends. Invalid requests become error completions. Results come back in request order.
     */
    public static List<Completion> run(BatchScheduler scheduler, DecodingMethod method, List<DecodeRequest> requests,
                                       Consumer<Completion> onResult) {
        Map<String, Tally> tallies = new LinkedHashMap<>();
        for (DecodeRequest r : requests) {
            if (tallies.put(r.id(), new Tally(r)) != null) {
                throw new IllegalArgumentException("duplicate request id " + r.id());
            }
            scheduler.submit(Admit.of(r, method));
        }
        while (scheduler.hasWork()) {
            for (SequenceUpdate u : scheduler.step().updates()) {
                Tally t = tallies.get(u.id());
                if (t != null && t.add(u)) {
                    onResult.accept(t.completion);
                }
            }
        }
        List<Completion> out = new ArrayList<>(tallies.size());
        tallies.values().forEach(t -> out.add(t.completion));
        return out;
    }

    /** One request's updates added up. */
    private static final class Tally {
        final DecodeRequest request;
        final long submittedMicros = WallClock.micros();
        final DecodeStats stats = new DecodeStats();
        int[] tokens = new int[0];
        long firstTokenMicros;
        Completion completion;

        Tally(DecodeRequest request) {
            this.request = request;
        }

        /** Adds an update; true when it ended the request. */
        boolean add(SequenceUpdate u) {
            int n = tokens.length;
            tokens = Arrays.copyOf(tokens, n + u.newTokens().length);
            System.arraycopy(u.newTokens(), 0, tokens, n, u.newTokens().length);
            stats.add(u.counters());
            if (u.times().firstTokenMicros() != 0) {
                firstTokenMicros = u.times().firstTokenMicros();
            }
            if (!u.finished()) {
                return false;
            }
            Completion.Speculation spec = new Completion.Speculation(stats.steps, stats.stepTokens,
                    stats.acceptedDraftTokens, stats.draftNanos / 1e6, stats.verifyNanos / 1e6);
            Completion.Timings timings = new Completion.Timings(stats.prefillNanos / 1e6,
                    firstTokenMicros == 0 ? 0 : (firstTokenMicros - submittedMicros) / 1e3,
                    (WallClock.micros() - submittedMicros) / 1e3);
            completion = new Completion(u.id(), tokens, u.ending().text(), u.ending().finish(), u.ending().error(),
                    request.promptIds().length, spec, timings);
            return true;
        }
    }
}

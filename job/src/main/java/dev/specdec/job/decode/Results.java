package dev.specdec.job.decode;

import dev.specdec.job.ingest.DeadLetters;

import dev.specdec.engine.request.Finish;
import dev.specdec.engine.serve.SequenceUpdate;
import dev.specdec.engine.serve.WallClock;
import dev.specdec.job.state.DraftProgress;
import dev.specdec.job.state.TokenizedRequest;
import dev.specdec.job.state.VerifyProgress;
import dev.specdec.records.FinishReason;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.SpeculativeStats;
import dev.specdec.records.Timings;
import dev.specdec.records.TokenChunk;
import dev.specdec.records.Usage;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Builds the records the decode operator emits ({@link GenerationResult}, {@link TokenChunk}) from what the job knows about a request. */
public final class Results {
    private Results() {
    }

    /**
     * The result of a request the decode operator handled: its committed tokens and counters, timed
     * from when the job first read it.
     */
    static GenerationResult of(TokenizedRequest r, VerifyProgress v, DraftProgress d,
                               Finish finish, String error, String text) {
        long now = WallClock.micros();
        long received = r.receivedMicros();
        int steps = v == null ? 0 : v.steps;
        SpeculativeStats spec = SpeculativeStats.newBuilder()
                .setDrafter(d != null ? d.drafter : r.method())
                .setSteps(steps)
                .setAcceptedTokens(d == null ? 0 : d.acceptedTokens)
                .setMeanAcceptanceLength(steps == 0 ? 0.0 : (double) v.stepTokens / steps)
                .setDraftMs(d == null ? 0.0 : d.draftNanos / 1e6)
                .setVerifyMs(v == null ? 0.0 : v.verifyNanos / 1e6)
                .build();
        long started = v == null || v.startedMicros == 0 ? now : v.startedMicros;
        Timings timings = Timings.newBuilder()
                .setQueueMs(Math.max(0, started - received) / 1e3)
                .setPrefillMs(v == null ? 0.0 : v.prefillNanos / 1e6)
                .setFirstTokenMs(v == null || v.firstTokenMicros == 0 ? 0.0 : Math.max(0, v.firstTokenMicros - received) / 1e3)
                .setTotalMs(Math.max(0, now - received) / 1e3)
                .build();
        List<Integer> ids = new ArrayList<>();
        if (v != null) {
            for (int t : v.tokens()) {
                ids.add(t);
            }
        }
        return GenerationResult.newBuilder()
                .setRequestId(r.id())
                .setText(text == null ? "" : text)
                .setTokenIds(ids)
                .setFinishReason(FinishReason.valueOf(finish.name()))
                .setError(error)
                .setUsage(new Usage(r.promptIds().length, ids.size()))
                .setSpeculative(spec)
                .setTimings(timings)
                .setMetadata(new HashMap<>(r.metadata()))
                .setRecoveries(v == null ? 0 : v.recoveries)
                .setCompletedTimeMs(Instant.ofEpochMilli(now / 1000))
                .build();
    }

    /** A request's partial output of one step: its new tokens and text, at their places in the whole. */
    static TokenChunk chunk(SequenceUpdate u, int tokenOffset) {
        List<Integer> ids = new ArrayList<>(u.newTokens().length);
        for (int t : u.newTokens()) {
            ids.add(t);
        }
        return TokenChunk.newBuilder().setRequestId(u.id()).setTokenOffset(tokenOffset).setTokenIds(ids)
                .setTextOffset(u.text().offset()).setText(u.text().text()).setLast(u.finished())
                .setEmittedTimeMs(Instant.ofEpochMilli(System.currentTimeMillis())).build();
    }

    /** An error result for a request that never reached decoding (invalid, unreadable field, ...). */
    public static GenerationResult error(String id, int promptTokens, String message, Map<String, String> metadata,
                                         String drafter, long receivedMicros) {
        long now = WallClock.micros();
        double total = receivedMicros == 0 ? 0.0 : Math.max(0, now - receivedMicros) / 1e3;
        return GenerationResult.newBuilder()
                .setRequestId(id)
                .setText("")
                .setTokenIds(new ArrayList<>())
                .setFinishReason(FinishReason.ERROR)
                .setError(DeadLetters.cut(message, DeadLetters.MAX_REASON))
                .setUsage(new Usage(promptTokens, 0))
                .setSpeculative(new SpeculativeStats(drafter == null ? "" : drafter.toLowerCase(Locale.ROOT), 0, 0, 0.0, 0.0, 0.0))
                .setTimings(new Timings(total, 0.0, 0.0, total))
                .setMetadata(metadata == null ? new HashMap<>() : new HashMap<>(metadata))
                .setRecoveries(0)
                .setCompletedTimeMs(Instant.ofEpochMilli(now / 1000))
                .build();
    }

    /** The error result sent instead of a result too large for the producer; it keeps id, usage and timings. */
    public static GenerationResult tooLarge(GenerationResult r, int bytes, int limit) {
        GenerationResult out = error(r.getRequestId(), r.getUsage().getPromptTokens(), "the result is " + bytes
                + " bytes, over the output limit of " + limit + " bytes", null, r.getSpeculative().getDrafter(), 0);
        out.setTimings(r.getTimings());
        return out;
    }

    /** A chunk too large to send becomes an empty one at the same offsets: the result still carries the text. */
    public static TokenChunk tooLarge(TokenChunk c, int bytes, int limit) {
        return TokenChunk.newBuilder(c).setTokenIds(new ArrayList<>()).setText("").build();
    }
}

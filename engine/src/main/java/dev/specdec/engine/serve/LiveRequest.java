package dev.specdec.engine.serve;

import dev.specdec.engine.decode.DecodeStats;
import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.request.DecodingMethod;

import java.util.Arrays;

/**
 * One request in the scheduler, with what was last reported about it: each {@link #report} says
 * only what changed since the previous one (tokens, counters, streamed text), so whoever keeps the
 * totals (the job's keyed state, a {@link Generator}) adds the reports up.
 */
final class LiveRequest {
    final String id;
    final DecodingMethod method;
    final long deadlineMicros;
    private SequenceState seq;
    private DecodeStats reported = new DecodeStats();
    private int reportedTokens;
    private long startedMicros;
    private boolean firstTokenReported;
    /** Streaming: the text shown so far (a prefix of the decoded tokens' text). */
    private String shownText = "";

    LiveRequest(String id, DecodingMethod method, long deadlineMicros, SequenceState seq) {
        this.id = id;
        this.method = method;
        this.deadlineMicros = deadlineMicros;
        this.seq = seq;
    }

    SequenceState seq() {
        return seq;
    }

    void admittedAt(long micros) {
        startedMicros = micros;
    }

    /**
     * A restored request: its tokens were reported before the restore (also the text streaming showed,
     * which is a function of the tokens).
     */
    void restored(boolean streaming) {
        reportedTokens = seq.generatedCount();
        firstTokenReported = true;
        if (streaming) {
            shownText = stablePrefix(seq);
        }
    }

    /** The tokens reported so far: what the request's owner has committed. */
    int[] committedTokens() {
        return Arrays.copyOf(seq.generated(), reportedTokens);
    }

    /** Replaces the sequence by one rebuilt from the committed tokens (after a failed step); counters restart. */
    void rebuiltAs(SequenceState fresh) {
        seq = fresh;
        reported = new DecodeStats();
    }

    /** What changed since the last report. */
    SequenceUpdate report(boolean streaming) {
        int count = seq.generatedCount();
        int[] fresh = new int[count - reportedTokens];
        for (int i = 0; i < fresh.length; i++) {
            fresh[i] = seq.generatedAt(reportedTokens + i);
        }
        reportedTokens = count;
        DecodeStats delta = seq.stats().since(reported);
        reported = seq.stats().copy();
        long firstToken = 0;
        if (!firstTokenReported && count > 0) {
            firstTokenReported = true;
            firstToken = WallClock.micros() - (System.nanoTime() - seq.firstTokenNanos()) / 1000;
        }
        SequenceUpdate.Times times = new SequenceUpdate.Times(startedMicros, firstToken);
        startedMicros = 0;
        SequenceUpdate.Ending ending = seq.isFinished()
                ? new SequenceUpdate.Ending(seq.finishReason(), seq.error(), seq.text()) : null;
        SequenceUpdate.TextDelta text = SequenceUpdate.TextDelta.NONE;
        if (streaming && (fresh.length > 0 || ending != null)) {
            int offset = StreamedText.codePoints(shownText);
            String shown = ending != null ? ending.text() : stablePrefix(seq);
            String added = StreamedText.delta(shownText, shown);
            shownText += added;
            text = new SequenceUpdate.TextDelta(offset, added);
        }
        int rows = seq.cache() == null ? 0 : seq.cache().length();
        return new SequenceUpdate(id, fresh, delta, times, rows, ending, text);
    }

    /** The part of a decoding request's text that is final ({@link StreamedText#stableLength}). */
    private static String stablePrefix(SequenceState s) {
        String text = s.text();
        return text.substring(0, StreamedText.stableLength(text, s.params().stopStrings()));
    }
}

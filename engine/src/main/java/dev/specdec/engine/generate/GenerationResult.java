package dev.specdec.engine.generate;

/**
 * The outcome of one request: new token ids, text, why it ended, token counts, speculative
 * statistics and timings (milliseconds).
 */
public record GenerationResult(String id, int[] tokenIds, String text, FinishReason finishReason, String error,
                               int promptTokens, int completionTokens, int steps, int acceptedDraftTokens,
                               double meanAcceptanceLength, double draftMillis, double verifyMillis,
                               double prefillMillis, double firstTokenMillis, double totalMillis) {

    public static GenerationResult of(SequenceState s) {
        DecodeStats st = s.stats;
        long end = s.finishedNanos != 0 ? s.finishedNanos : System.nanoTime();
        return new GenerationResult(s.id(), s.generated(), s.text(), s.finishReason(), s.error(),
                s.prompt().length, s.generatedCount(), st.steps, st.acceptedDraftTokens, st.meanAcceptanceLength(),
                st.draftNanos / 1e6, st.verifyNanos / 1e6, st.prefillNanos / 1e6,
                s.firstTokenNanos == 0 ? 0 : (s.firstTokenNanos - s.createdNanos) / 1e6,
                (end - s.createdNanos) / 1e6);
    }

    public static GenerationResult error(String id, int promptTokens, String message) {
        return new GenerationResult(id, new int[0], "", FinishReason.ERROR, message, promptTokens, 0, 0, 0, 0,
                0, 0, 0, 0, 0);
    }
}

package dev.specdec.engine.request;

/**
 * The outcome of one request as the engine reports it: the new token ids and their text, why it
 * ended, and what decoding it took.
 *
 * @param promptTokens prompt length in tokens
 * @param speculation  decoding steps and the drafter's share in them
 * @param timings      milliseconds, from when the request was handed to the engine
 */
public record Completion(String id, int[] tokenIds, String text, Finish finish, String error, int promptTokens,
                         Speculation speculation, Timings timings) {

    /**
     * @param steps               decoding steps after prefill (base-model verify calls)
     * @param stepTokens          tokens those steps emitted (accepted drafts plus bonus tokens)
     * @param acceptedDraftTokens drafted tokens the base model accepted
     */
    public record Speculation(int steps, int stepTokens, int acceptedDraftTokens, double draftMillis,
                              double verifyMillis) {
        public static final Speculation NONE = new Speculation(0, 0, 0, 0, 0);

        /** Tokens per decoding step (beta in the paper); the prefill's token is not counted. */
        public double meanAcceptanceLength() {
            return steps == 0 ? 0 : (double) stepTokens / steps;
        }
    }

    public record Timings(double prefillMillis, double firstTokenMillis, double totalMillis) {
        public static final Timings NONE = new Timings(0, 0, 0);
    }

    public int completionTokens() {
        return tokenIds.length;
    }

    /** A request that never reached decoding. */
    public static Completion error(String id, int promptTokens, String message) {
        return new Completion(id, new int[0], "", Finish.ERROR, message, promptTokens, Speculation.NONE, Timings.NONE);
    }
}

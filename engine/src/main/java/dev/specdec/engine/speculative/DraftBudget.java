package dev.specdec.engine.speculative;

/**
 * How far a drafter drafts this time, by expected value: one more depth is drafted only while it
 * raises the expected committed tokens per second of the batch. {@code stepMs[k]} is what a step
 * that verifies k drafted tokens per sequence costs (verify and draft, {@link CostModel#stepMs});
 * {@code acceptance[bin]} is the calibrated acceptance of a drafted token whose top-1 probability
 * falls in that twentieth of [0, 1] ({@link AcceptanceModel}), and {@code requestFactor[i]} scales it
 * for sequence i.
 */
public record DraftBudget(double[] stepMs, double[] acceptance, double[] requestFactor) {

    /** Chance that sequence i's drafted token of top-1 probability {@code p} is accepted. */
    public double perToken(int i, double p) {
        return Math.min(0.99, acceptance[AcceptanceModel.bin(p)] * requestFactor[i]);
    }

    /**
     * Whether to draft beyond depth {@code k}: the step as it is expects {@code expected} tokens (the
     * batch's sequences plus the chance-weighted drafted tokens so far), {@code reached} of them from
     * depth k, and {@code nextGain} from depth k + 1. Looks ahead, carrying the batch's acceptance at
     * the next depth ({@code nextGain / reached}) forward: drafting goes on if any deeper step beats
     * this one in tokens per millisecond. A one-step look would stop on a flat stretch of the verify
     * cost curve that deeper steps climb over.
     */
    public boolean worthDeeper(int k, double expected, double reached, double nextGain) {
        if (reached <= 0) {
            return false;
        }
        double a = nextGain / reached;
        double here = expected / stepMs[k];
        double e = expected;
        double r = reached;
        for (int j = k + 1; j < stepMs.length; j++) {
            r *= a;
            e += r;
            if (e / stepMs[j] > here) {
                return true;
            }
        }
        return false;
    }
}

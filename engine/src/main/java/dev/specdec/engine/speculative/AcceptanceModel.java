package dev.specdec.engine.speculative;

import dev.specdec.engine.decode.DecodeStats;
import dev.specdec.engine.decode.SequenceState;

/**
 * How likely a drafted token is to be accepted, given that every drafted token before it was: the
 * drafter's own top-1 probability mapped through a calibration learnt from what verification
 * accepts (twenty bins of the probability, each starting from "as likely as the drafter says"), then
 * scaled by the request's own record (its accepted tokens against what the calibrated
 * probabilities expected, so a request in easy or hard territory counts as such). A drafter's raw
 * probabilities are badly calibrated (the bundled CTC drafter's drafts of top-1 probability below
 * 0.1 are accepted 62% of the time, those above 0.4 nearly always), so without this the adaptive
 * tree would stop its chains far too early.
 */
public final class AcceptanceModel {
    static final int BINS = 20;
    private static final double PRIOR = 8;
    private static final double FLOOR = 0.5;
    private static final double REQUEST_PRIOR = 4;
    private static final double MAX = 0.99;

    private final double[] reached = new double[BINS];
    private final double[] accepted = new double[BINS];
    /** How often the first drafted token is accepted (an average over recent chains), before drafting. */
    private double firstRate = 0.7;

    /**
     * Starts every bin at "at least even odds" (the drafter's probability, or 1/2 where it says less):
     * drafters tend to be under-confident, and a pessimistic start would keep the adaptive tree from
     * ever verifying the low-probability drafts it needs to learn about.
     */
    public AcceptanceModel() {
        for (int i = 0; i < BINS; i++) {
            reached[i] = PRIOR;
            accepted[i] = PRIOR * Math.max(FLOOR, (i + 0.5) / BINS);
        }
    }

    static int bin(double p) {
        return Math.max(0, Math.min(BINS - 1, (int) (p * BINS)));
    }

    /** The calibrated acceptance of each probability bin (what the compiled draft chain looks up). */
    double[] table() {
        double[] t = new double[BINS];
        for (int i = 0; i < BINS; i++) {
            t[i] = accepted[i] / reached[i];
        }
        return t;
    }

    /** Chance that a drafted token of top-1 probability {@code p} is accepted, for a request of factor {@code r}. */
    double perToken(double p, double r) {
        int i = bin(p);
        return Math.min(MAX, accepted[i] / reached[i] * r);
    }

    /** Chance that the lists' first {@code depth} top-1 tokens are all accepted. */
    double reach(DepthLists lists, int depth, double r) {
        double reach = 1;
        for (int k = 0; k < Math.min(depth, lists.depth()); k++) {
            reach *= perToken(Math.exp(lists.logProbs()[k][0]), r);
        }
        return reach;
    }

    /** Expected accepted tokens of a chain of the lists' top-1 tokens, {@code depth} long. */
    double expected(DepthLists lists, int depth, double r) {
        double reach = 1;
        double expected = 0;
        for (int k = 0; k < Math.min(depth, lists.depth()); k++) {
            reach *= perToken(Math.exp(lists.logProbs()[k][0]), r);
            expected += reach;
        }
        return expected;
    }

    /**
     * Learns from one verified chain: its drafted tokens up to the first rejected one (or the
     * chain's end) were reached, the first {@code acceptedCount} of them accepted.
     */
    void observe(DepthLists lists, int verifiedDepth, int acceptedCount) {
        if (verifiedDepth > 0 && lists.depth() > 0) {
            firstRate += 0.05 * ((acceptedCount > 0 ? 1 : 0) - firstRate);
        }
        int reachedCount = Math.min(verifiedDepth, Math.min(lists.depth(), acceptedCount + 1));
        for (int k = 0; k < reachedCount; k++) {
            int i = bin(Math.exp(lists.logProbs()[k][0]));
            reached[i]++;
            if (k < acceptedCount) {
                accepted[i]++;
            }
        }
    }

    /** Chance that a request of factor {@code r} accepts a first drafted token not drafted yet. */
    double firstToken(double r) {
        return Math.min(MAX, firstRate * r);
    }

    /** A request's factor: its accepted drafted tokens over what the calibrated model expected, kept in [0.5, 2]. */
    static double requestFactor(SequenceState s) {
        DecodeStats st = s.stats();
        double f = (st.acceptedDraftTokens + REQUEST_PRIOR) / (st.expectedDraftTokens + REQUEST_PRIOR);
        return Math.max(0.5, Math.min(2, f));
    }
}

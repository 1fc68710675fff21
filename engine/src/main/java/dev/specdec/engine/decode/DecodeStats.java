package dev.specdec.engine.decode;

/** Counters of one sequence's decoding: steps, drafted tokens accepted, time in draft and verify. */
public final class DecodeStats {
    /** Decoding steps (base-model calls after prefill). */
    public int steps;
    /** Drafted tokens proposed to verification (the tree's nodes below its root, every step). */
    public int draftedTokens;
    /** Drafted tokens accepted by verification (not counting the bonus token of each step). */
    public int acceptedDraftTokens;
    /** Tokens emitted by decoding steps (accepted + bonus), i.e. generated minus the prefill token. */
    public int stepTokens;
    /** Drafted tokens the drafter's raw probabilities expected to be accepted (the adaptive tree's calibration). */
    public double expectedDraftTokens;
    public long draftNanos;
    public long verifyNanos;
    public long prefillNanos;

    /** Mean tokens per decoding step (beta in the paper); prefill's token is not counted. */
    public double meanAcceptanceLength() {
        return steps == 0 ? 0 : (double) stepTokens / steps;
    }

    public void add(DecodeStats o) {
        steps += o.steps;
        draftedTokens += o.draftedTokens;
        acceptedDraftTokens += o.acceptedDraftTokens;
        stepTokens += o.stepTokens;
        expectedDraftTokens += o.expectedDraftTokens;
        draftNanos += o.draftNanos;
        verifyNanos += o.verifyNanos;
        prefillNanos += o.prefillNanos;
    }

    public DecodeStats copy() {
        DecodeStats c = new DecodeStats();
        c.add(this);
        return c;
    }

    /** What was counted since {@code earlier} (a copy taken before): this minus earlier, field by field. */
    public DecodeStats since(DecodeStats earlier) {
        DecodeStats d = copy();
        d.steps -= earlier.steps;
        d.draftedTokens -= earlier.draftedTokens;
        d.acceptedDraftTokens -= earlier.acceptedDraftTokens;
        d.stepTokens -= earlier.stepTokens;
        d.expectedDraftTokens -= earlier.expectedDraftTokens;
        d.draftNanos -= earlier.draftNanos;
        d.verifyNanos -= earlier.verifyNanos;
        d.prefillNanos -= earlier.prefillNanos;
        return d;
    }
}

package dev.specdec.job.state;

import java.util.Arrays;

/**
 * The verify stage's keyed state for one request: every token the base model has committed so far
 * and its counters. Together with the request's seed this is also the sampler's state: sampling
 * draws depend only on (seed, absolute position), and the next position is the prompt length plus
 * {@link #count()}. Mutable, owned by the task thread; never shared with the engine thread.
 */
public final class VerifyProgress {
    private int[] tokens;
    private int count;
    /** Verification steps (base-model calls after prefill) and the tokens they emitted. */
    public int steps;
    public int stepTokens;
    public long verifyNanos;
    public long prefillNanos;
    /** When prefill started and when the first token was produced (epoch microseconds). */
    public long startedMicros;
    public long firstTokenMicros;
    /** Times this request's decoding was resumed from a checkpoint. */
    public int recoveries;

    public VerifyProgress() {
        this.tokens = new int[16];
    }

    VerifyProgress(int[] tokens) {
        this.tokens = tokens.length == 0 ? new int[16] : tokens;
        this.count = tokens.length;
    }

    public int count() {
        return count;
    }

    public int[] tokens() {
        return Arrays.copyOf(tokens, count);
    }

    public void append(int[] more) {
        if (count + more.length > tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, count + more.length));
        }
        System.arraycopy(more, 0, tokens, count, more.length);
        count += more.length;
    }

    int[] rawTokens() {
        return tokens;
    }

    public VerifyProgress copy() {
        VerifyProgress c = new VerifyProgress(Arrays.copyOf(tokens, count));
        c.steps = steps;
        c.stepTokens = stepTokens;
        c.verifyNanos = verifyNanos;
        c.prefillNanos = prefillNanos;
        c.startedMicros = startedMicros;
        c.firstTokenMicros = firstTokenMicros;
        c.recoveries = recoveries;
        return c;
    }
}

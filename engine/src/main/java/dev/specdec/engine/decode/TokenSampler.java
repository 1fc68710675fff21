package dev.specdec.engine.decode;

import dev.specdec.engine.request.SamplingParams;

import java.util.Arrays;

/**
 * Picks the next token from a row of logits. Greedy is argmax (first maximum wins, as torch
 * does); sampling applies temperature, then top-k, then top-p (HuggingFace's order), and inverts the
 * cumulative distribution at a uniform number that depends only on (seed, position). Because the
 * draw is a pure function of the logits and (seed, position), a decoder that reaches the same
 * position with the same logits draws the same token, whatever path it took to get there.
 */
public final class TokenSampler {
    private TokenSampler() {
    }

    /** Uniform double in [0, 1) from (seed, position): two rounds of SplitMix64. */
    public static double uniform(long seed, int position) {
        long z = mix(seed + 0x9E3779B97F4A7C15L * (position + 1L));
        z = mix(z ^ 0xD1B54A32D192ED03L);
        return (z >>> 11) * 0x1.0p-53;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public static int argmax(float[] logits, int offset, int length) {
        int best = 0;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < length; i++) {
            float v = logits[offset + i];
            if (v > bestValue) {
                bestValue = v;
                best = i;
            }
        }
        return best;
    }

    /** The token at {@code position} for a row of logits ({@code logits[offset .. offset + vocab)}). */
    public static int sample(float[] logits, int offset, int vocab, SamplingParams p, int position) {
        if (p.isGreedy()) {
            return argmax(logits, offset, vocab);
        }
        double invT = 1.0 / p.temperature();
        float maxLogit = logits[offset + argmax(logits, offset, vocab)];
        double u = uniform(p.seed(), position);
        if (p.topK() == 0 && p.topP() >= 1.0) {
            // Plain temperature sampling: invert the CDF in id order, no sort needed.
            double[] w = new double[vocab];
            double sum = 0;
            for (int i = 0; i < vocab; i++) {
                w[i] = Math.exp((logits[offset + i] - maxLogit) * invT);
                sum += w[i];
            }
            double target = u * sum;
            double acc = 0;
            for (int i = 0; i < vocab; i++) {
                acc += w[i];
                if (target < acc) {
                    return i;
                }
            }
            return argmax(logits, offset, vocab);
        }
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        // Descending by logit, ties by id: a total order, so the kept set and the CDF are well defined.
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(logits[offset + b], logits[offset + a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int kept = p.topK() > 0 ? Math.min(p.topK(), vocab) : vocab;
        double[] w = new double[kept];
        double sum = 0;
        for (int i = 0; i < kept; i++) {
            w[i] = Math.exp((logits[offset + order[i]] - maxLogit) * invT);
            sum += w[i];
        }
        if (p.topP() < 1.0) {
            double cum = 0;
            int n = 0;
            while (n < kept) {
                cum += w[n] / sum;
                n++;
                if (cum >= p.topP()) {
                    break;
                }
            }
            kept = n;
            sum = 0;
            for (int i = 0; i < kept; i++) {
                sum += w[i];
            }
        }
        double target = u * sum;
        double acc = 0;
        for (int i = 0; i < kept; i++) {
            acc += w[i];
            if (target < acc) {
                return order[i];
            }
        }
        return order[kept - 1];
    }
}

package dev.specdec.engine.decode;

import dev.specdec.engine.request.SamplingParams;

import java.util.Arrays;

/**
 * Picks the next token from a row of logits. Greedy is argmax (first maximum wins, as torch does).
 * Sampling applies temperature, then top-k, then top-p (HuggingFace's order) to find the tokens
 * that may be drawn, and draws one of them with the Gumbel-max trick: the token with the largest
 * {@code logit / T + g}, where each token's Gumbel noise {@code g} is a function of (seed, position,
 * token id) only. That draws exactly from softmax(logits / T) over the kept tokens.
 *
 * <p>Why Gumbel-max and not inverting the cumulative distribution: the draw must not depend on
 * which forward pass computed the logits. A tree verification pass and a plain decoding pass give
 * the same logits up to float rounding; inverting the CDF at one uniform number turns a rounding
 * difference anywhere in the row into a different token whenever the number lands near a bin edge,
 * while with per-token noise two passes can only disagree when two candidates' noisy scores tie
 * to within rounding (as greedy decoding can only disagree at a true tie). So speculative sampling
 * gives plain sampling's tokens, and so do one and two intra-op threads.
 */
public final class TokenSampler {
    private TokenSampler() {
    }

    /** Uniform double in (0, 1) from (seed, position, token): SplitMix64 rounds over the three. */
    static double uniform(long seed, int position, int token) {
        long z = mix(seed + 0x9E3779B97F4A7C15L * (position + 1L));
        z = mix(z ^ (0xD1B54A32D192ED03L * (token + 1L)));
        z = mix(z ^ 0x8CB92BA72F3D8DD7L);
        return ((z >>> 11) + 0.5) * 0x1.0p-53;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Standard Gumbel noise of (seed, position, token); the compiled draft chain reproduces it to couple drafts. */
    public static double gumbel(long seed, int position, int token) {
        return -Math.log(-Math.log(uniform(seed, position, token)));
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
        if (p.topK() == 0 && p.topP() >= 1.0) {
            return gumbelMax(logits, offset, null, vocab, invT, p.seed(), position);
        }
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        // Descending by logit, ties by id: a total order, so the kept set is well defined.
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(logits[offset + b], logits[offset + a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int kept = p.topK() > 0 ? Math.min(p.topK(), vocab) : vocab;
        if (p.topP() < 1.0) {
            kept = nucleus(logits, offset, order, kept, invT, p.topP());
        }
        return gumbelMax(logits, offset, order, kept, invT, p.seed(), position);
    }

    /** How many of the first {@code kept} tokens (descending) make up probability {@code topP}. */
    private static int nucleus(float[] logits, int offset, Integer[] order, int kept, double invT, double topP) {
        float max = logits[offset + order[0]];
        double[] w = new double[kept];
        double sum = 0;
        for (int i = 0; i < kept; i++) {
            w[i] = Math.exp((logits[offset + order[i]] - max) * invT);
            sum += w[i];
        }
        double cum = 0;
        int n = 0;
        while (n < kept) {
            cum += w[n] / sum;
            n++;
            if (cum >= topP) {
                break;
            }
        }
        return n;
    }

    /** argmax over the candidates of logit / T + Gumbel(seed, position, id); {@code order == null}: ids 0..n-1. */
    private static int gumbelMax(float[] logits, int offset, Integer[] order, int n, double invT, long seed,
                                 int position) {
        int best = -1;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            int id = order == null ? i : order[i];
            double score = logits[offset + id] * invT + gumbel(seed, position, id);
            if (score > bestScore || (score == bestScore && id < best)) {
                bestScore = score;
                best = id;
            }
        }
        return best;
    }
}

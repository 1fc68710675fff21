package dev.specdec.engine.decode;

import dev.specdec.engine.request.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sampler draws from softmax(logits / T) over the tokens top-k and top-p keep (a chi-square test
 * over many seeds), and a rounding-sized change of the logits changes the drawn token only at a
 * true near-tie (what lets a verify pass and a plain pass draw the same tokens).
 */
class TokenSamplerTest {
    static final float[] LOGITS = {2.0f, 1.0f, 0.5f, 0.0f, -1.0f, 1.5f};
    static final int DRAWS = 60_000;

    private static SamplingParams params(double t, int topK, double topP, long seed) {
        return new SamplingParams(16, t, topK, topP, seed, Set.of(), List.of(), false);
    }

    /** Pearson's chi-square of the draws against the expected probabilities (zero-probability tokens must never come). */
    private static double chiSquare(double t, int topK, double topP, double[] expected) {
        int[] counts = new int[LOGITS.length];
        for (int seed = 0; seed < DRAWS; seed++) {
            counts[TokenSampler.sample(LOGITS, 0, LOGITS.length, params(t, topK, topP, seed), 11)]++;
        }
        double chi = 0;
        for (int i = 0; i < counts.length; i++) {
            if (expected[i] == 0) {
                assertEquals(0, counts[i], "token " + i + " is outside the kept set");
                continue;
            }
            double e = expected[i] * DRAWS;
            chi += (counts[i] - e) * (counts[i] - e) / e;
        }
        return chi;
    }

    private static double[] softmax(double t, int... kept) {
        double[] p = new double[LOGITS.length];
        double sum = 0;
        for (int i : kept) {
            p[i] = Math.exp(LOGITS[i] / t);
            sum += p[i];
        }
        for (int i : kept) {
            p[i] /= sum;
        }
        return p;
    }

    @Test
    void drawsFollowTheTemperedDistribution() {
        // 99.9% quantiles of chi-square: 5 dof 20.5, 2 dof 13.8, 1 dof 10.8.
        assertTrue(chiSquare(0.8, 0, 1.0, softmax(0.8, 0, 1, 2, 3, 4, 5)) < 20.5, "temperature 0.8");
        assertTrue(chiSquare(1.5, 0, 1.0, softmax(1.5, 0, 1, 2, 3, 4, 5)) < 20.5, "temperature 1.5");
        assertTrue(chiSquare(0.8, 3, 1.0, softmax(0.8, 0, 5, 1)) < 13.8, "top-k 3");
        // At T = 1 the top two tokens hold 0.42 + 0.25 = 0.67 < 0.7, so top-p 0.7 keeps three.
        assertTrue(chiSquare(1.0, 0, 0.7, softmax(1.0, 0, 5, 1)) < 13.8, "top-p 0.7");
        assertTrue(chiSquare(1.0, 0, 0.65, softmax(1.0, 0, 5)) < 10.8, "top-p 0.65 keeps two");
        assertTrue(chiSquare(1.0, 2, 0.99, softmax(1.0, 0, 5)) < 10.8, "top-k 2 before top-p");
    }

    @Test
    void roundingSizedChangesMoveAlmostNoDraw() {
        float[] perturbed = LOGITS.clone();
        for (int i = 0; i < perturbed.length; i++) {
            perturbed[i] = Math.nextUp(perturbed[i] * (1 + 3e-7f));
        }
        int differ = 0;
        for (int seed = 0; seed < DRAWS; seed++) {
            SamplingParams p = params(0.8, 0, 1.0, seed);
            if (TokenSampler.sample(LOGITS, 0, LOGITS.length, p, 5) != TokenSampler.sample(perturbed, 0, perturbed.length, p, 5)) {
                differ++;
            }
        }
        assertTrue(differ < DRAWS / 10_000, differ + " of " + DRAWS + " draws moved");
    }

    @Test
    void drawsDependOnlyOnSeedPositionAndLogits() {
        SamplingParams p = params(0.9, 0, 1.0, 42);
        int a = TokenSampler.sample(LOGITS, 0, LOGITS.length, p, 3);
        float[] shifted = new float[LOGITS.length + 4];
        System.arraycopy(LOGITS, 0, shifted, 4, LOGITS.length);
        assertEquals(a, TokenSampler.sample(shifted, 4, LOGITS.length, p, 3), "the row's offset does not matter");
        assertEquals(0, TokenSampler.sample(LOGITS, 0, LOGITS.length, params(0, 0, 1.0, 42), 3), "temperature 0 is argmax");
    }
}

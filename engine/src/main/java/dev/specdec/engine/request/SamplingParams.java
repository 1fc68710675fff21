package dev.specdec.engine.request;

import java.util.List;
import java.util.Set;

/**
 * How to pick tokens and when to stop. A temperature below {@link #GREEDY_BELOW} is greedy decoding
 * (as the serving systems treat it: dividing logits by 1e-310 is not sampling but overflow). Randomness is a
 * function of ({@code seed}, absolute position) only, so a speculative decoder reproduces plain
 * sampling token for token. Also the defaults a command gives requests that leave fields out
 * (serializable, so a job graph can carry them).
 *
 * @param maxNewTokens  stop after this many new tokens (finish reason "length")
 * @param temperature   0 for greedy, else in (0, 100]
 * @param topK          keep the k most likely tokens (0 = all)
 * @param topP          keep the smallest set of tokens whose probability reaches p (1 = all)
 * @param seed          sampling seed
 * @param stopTokenIds  extra token ids that end generation (EOS always does unless ignoreEos)
 * @param stopStrings   strings that end generation; the returned text stops before them
 * @param ignoreEos     keep generating after EOS (benchmarks with fixed lengths)
 */
public record SamplingParams(int maxNewTokens, double temperature, int topK, double topP, long seed,
                             Set<Integer> stopTokenIds, List<String> stopStrings, boolean ignoreEos)
        implements java.io.Serializable {

    public SamplingParams {
        stopTokenIds = stopTokenIds == null ? Set.of() : Set.copyOf(stopTokenIds);
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
    }

    public static SamplingParams greedy(int maxNewTokens) {
        return new SamplingParams(maxNewTokens, 0, 0, 1.0, 0, Set.of(), List.of(), false);
    }

    public SamplingParams withIgnoreEos(boolean ignore) {
        return new SamplingParams(maxNewTokens, temperature, topK, topP, seed, stopTokenIds, stopStrings, ignore);
    }

    public SamplingParams withMaxNewTokens(int n) {
        return new SamplingParams(n, temperature, topK, topP, seed, stopTokenIds, stopStrings, ignoreEos);
    }

    /** Temperatures below this decode greedily. */
    public static final double GREEDY_BELOW = 1e-5;

    public boolean isGreedy() {
        return temperature < GREEDY_BELOW;
    }

    /** Checks every field; the message names the first invalid one. */
    public void validate() {
        if (maxNewTokens < 1) {
            throw new InvalidRequestException("max_new_tokens must be at least 1, got " + maxNewTokens);
        }
        if (!(temperature >= 0 && temperature <= 100) || Double.isNaN(temperature)) {
            throw new InvalidRequestException("temperature must be in [0, 100], got " + temperature);
        }
        if (topK < 0) {
            throw new InvalidRequestException("top_k must be >= 0, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new InvalidRequestException("top_p must be in (0, 1], got " + topP);
        }
        for (String s : stopStrings) {
            if (s == null || s.isEmpty()) {
                throw new InvalidRequestException("stop strings must not be empty");
            }
        }
    }
}

package dev.specdec.engine.cli;

import dev.specdec.engine.request.SamplingParams;
import picocli.CommandLine.Option;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Sampling and stop options of every command that generates (the engine's and the job's). Each
 * command keeps its own default for {@code --max-new-tokens}: 128 for the engine commands, 64 for
 * the job commands, where they are defaults for requests that do not set their own.
 */
public final class SamplingOptions {
    @Option(names = "--max-new-tokens",
            description = "New tokens at most (default 128 for generate and bench, 64 for the job commands).")
    Integer maxNewTokens;
    @Option(names = "--temperature", defaultValue = "0", split = ",",
            description = "0 = greedy (default); bench takes a list (e.g. 0,0.8) and measures each.")
    double[] temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens (0 = off).")
    int topK;
    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling threshold (1 = off).")
    double topP;
    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed.")
    long seed;
    @Option(names = "--stop", description = "Stop string (repeatable).")
    List<String> stop;
    @Option(names = "--stop-token-ids", split = ",", description = "Extra stop token ids.")
    int[] stopTokenIds;
    @Option(names = "--ignore-eos", description = "Do not stop at end-of-sequence.")
    boolean ignoreEos;

    /**
     * The options as sampling parameters, with {@code defaultMaxNewTokens} when {@code --max-new-tokens}
     * is not given; checked as a request would be, so a bad option fails at once, not per request.
     */
    public SamplingParams toParams(int defaultMaxNewTokens) {
        if (temperature.length != 1) {
            throw new CliException("--temperature takes one value here, got " + temperature.length);
        }
        return toParams(defaultMaxNewTokens, temperature[0]);
    }

    /** Every temperature given (bench measures each). */
    public double[] temperatures() {
        return temperature.clone();
    }

    /** As {@link #toParams(int)} at the given temperature. */
    public SamplingParams toParams(int defaultMaxNewTokens, double temperature) {
        Set<Integer> ids = new HashSet<>();
        if (stopTokenIds != null) {
            for (int i : stopTokenIds) {
                ids.add(i);
            }
        }
        SamplingParams p = new SamplingParams(maxNewTokens != null ? maxNewTokens : defaultMaxNewTokens, temperature,
                topK, topP, seed, ids, stop, ignoreEos);
        p.validate();
        return p;
    }
}

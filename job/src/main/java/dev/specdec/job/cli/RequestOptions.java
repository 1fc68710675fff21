package dev.specdec.job.cli;

import dev.specdec.engine.generate.SamplingParams;
import dev.specdec.job.records.RequestDefaults;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Set;

/** Sampling and stop settings for requests that do not set their own. */
public final class RequestOptions {
    @Option(names = "--max-new-tokens", defaultValue = "64", description = "New tokens at most (default ${DEFAULT-VALUE}).")
    int maxNewTokens;
    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default).")
    double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens (0 = off).")
    int topK;
    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling threshold (1 = off).")
    double topP;
    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed.")
    long seed;
    @Option(names = "--stop", description = "Stop string (repeatable).")
    List<String> stop;
    @Option(names = "--ignore-eos", description = "Do not stop at end-of-sequence.")
    boolean ignoreEos;

    /** The defaults, checked as a request would be (so a bad option fails at once, not per request). */
    public RequestDefaults defaults() {
        new SamplingParams(maxNewTokens, temperature, topK, topP, seed, Set.of(), stop, ignoreEos).validate();
        return new RequestDefaults(maxNewTokens, temperature, topP, topK, seed, stop, ignoreEos);
    }
}

package dev.specdec.engine.cli;

import dev.specdec.engine.generate.SamplingParams;
import picocli.CommandLine.Option;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Sampling and stop options shared by the commands that generate. */
public final class SamplingOptions {
    @Option(names = "--max-new-tokens", defaultValue = "128", description = "New tokens at most (default ${DEFAULT-VALUE}).")
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
    @Option(names = "--stop-token-ids", split = ",", description = "Extra stop token ids.")
    int[] stopTokenIds;
    @Option(names = "--ignore-eos", description = "Do not stop at EOS.")
    boolean ignoreEos;

    public SamplingParams toParams() {
        Set<Integer> ids = new HashSet<>();
        if (stopTokenIds != null) {
            for (int i : stopTokenIds) {
                ids.add(i);
            }
        }
        return new SamplingParams(maxNewTokens, temperature, topK, topP, seed, ids, stop, ignoreEos);
    }
}

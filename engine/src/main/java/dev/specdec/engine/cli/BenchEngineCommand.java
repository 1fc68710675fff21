package dev.specdec.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.model.ForwardOutput;
import dev.specdec.engine.model.KvCache;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.Ops;
import dev.specdec.engine.model.SequenceInput;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code specdec bench-engine}: prefill and decode throughput, native calls per decoded token, and
 * the verify-cost curve (time of one forward of T new tokens over a cache of L tokens, relative to
 * T = 1), which decides how large a draft tree pays off on this machine.
 */
@Command(name = "bench-engine", mixinStandardHelpOptions = true,
        description = "Measure prefill/decode speed, native calls per token and the verify-cost curve.")
public final class BenchEngineCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;
    @Option(names = "--prompt-tokens", defaultValue = "128") int promptTokens;
    @Option(names = "--decode-tokens", defaultValue = "128") int decodeTokens;
    @Option(names = "--batch-sizes", split = ",", defaultValue = "1,4,8") int[] batchSizes;
    @Option(names = "--cache-lengths", split = ",", defaultValue = "128,512") int[] cacheLengths;
    @Option(names = "--tree-sizes", split = ",", defaultValue = "1,2,4,8,16,32,64") int[] treeSizes;
    @Option(names = "--repeats", defaultValue = "20", description = "Timed repetitions per point (median).") int repeats;
    @Option(names = "--json", defaultValue = "bench-results/engine.json") Path json;

    @Override
    public Integer call() throws Exception {
        int maxBatch = Arrays.stream(batchSizes).max().orElse(1);
        try (EngineSession session = model.open(maxBatch)) {
            LlamaModel m = session.model();
            ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode root = om.createObjectNode();
            root.put("model", model.modelDir().toString());
            root.put("config", m.config.toString());
            root.put("threads", Runtime.getRuntime().availableProcessors());
            System.out.println("model: " + m.config);

            // Warm-up so that JIT compilation and allocator state do not count.
            for (int b : batchSizes) {
                decodeRun(session, b, 96);
            }

            double prefill = prefillTokensPerSecond(session);
            root.put("prefill_tokens_per_s", prefill);
            System.out.printf(Locale.ROOT, "prefill (%d-token prompt): %.0f tokens/s%n", promptTokens, prefill);

            ArrayNode decode = root.putArray("decode");
            System.out.println("batch  decode tok/s  ms/step  native calls/token");
            for (int b : batchSizes) {
                double[] r = decodeRun(session, b, decodeTokens);
                ObjectNode d = decode.addObject();
                d.put("batch", b);
                d.put("tokens_per_s", r[0]);
                d.put("ms_per_step", r[1]);
                d.put("native_calls_per_token", r[2]);
                System.out.printf(Locale.ROOT, "%5d  %12.1f  %7.2f  %18.1f%n", b, r[0], r[1], r[2]);
            }
            root.put("decode_tokens_per_s", decode.get(0).get("tokens_per_s").asDouble());
            root.put("native_calls_per_token", decode.get(0).get("native_calls_per_token").asDouble());

            ArrayNode curve = root.putArray("verify_cost");
            StringBuilder header = new StringBuilder("cache \\ T");
            for (int t : treeSizes) {
                header.append(String.format(Locale.ROOT, "%8d", t));
            }
            System.out.println("verify cost relative to T=1 (ms at T=1 in brackets)");
            System.out.println(header);
            for (int len : cacheLengths) {
                double[] ms = verifyCurve(session, len);
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%9d", len));
                ObjectNode c = curve.addObject();
                c.put("cache_length", len);
                c.put("ms_at_1", ms[0]);
                ObjectNode rel = c.putObject("relative");
                for (int i = 0; i < treeSizes.length; i++) {
                    rel.put(Integer.toString(treeSizes[i]), ms[i] / ms[0]);
                    line.append(String.format(Locale.ROOT, "%8.2f", ms[i] / ms[0]));
                }
                System.out.println(line + String.format(Locale.ROOT, "   [%.2f ms]", ms[0]));
            }
            Files.createDirectories(json.toAbsolutePath().getParent());
            om.writeValue(json.toFile(), root);
            System.out.println("wrote " + json);
            return 0;
        }
    }

    private int[] syntheticTokens(int n, int seed, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 3 + Math.floorMod(seed * 7919 + i * 104729, vocab - 3);
        }
        return t;
    }

    private double prefillTokensPerSecond(EngineSession session) {
        LlamaModel m = session.model();
        int[] prompt = syntheticTokens(promptTokens, 1, m.config.vocabSize);
        long best = Long.MAX_VALUE;
        for (int r = 0; r < Math.max(3, repeats / 4); r++) {
            try (KvCache c = session.pool().allocate()) {
                long t0 = System.nanoTime();
                m.forward(List.of(SequenceInput.causal(c, prompt)), ForwardOutput.LogitsMode.LAST).close();
                best = Math.min(best, System.nanoTime() - t0);
            }
        }
        return promptTokens / (best / 1e9);
    }

    /** Greedy decode of {@code tokens} per sequence at batch size b: {tokens/s, ms/step, calls/token}. */
    private double[] decodeRun(EngineSession session, int b, int tokens) {
        LlamaModel m = session.model();
        List<KvCache> caches = new ArrayList<>();
        try {
            List<SequenceInput> in = new ArrayList<>();
            for (int i = 0; i < b; i++) {
                KvCache c = session.pool().allocate();
                caches.add(c);
                in.add(SequenceInput.causal(c, syntheticTokens(32, i + 2, m.config.vocabSize)));
            }
            int[] next = new int[b];
            try (ForwardOutput out = m.forward(in, ForwardOutput.LogitsMode.LAST)) {
                long[] ids = out.logits.argMax(1).toLongArray();
                for (int i = 0; i < b; i++) {
                    next[i] = (int) ids[i];
                }
            }
            long calls0 = Ops.calls();
            long t0 = System.nanoTime();
            for (int step = 0; step < tokens; step++) {
                in.clear();
                for (int i = 0; i < b; i++) {
                    in.add(SequenceInput.causal(caches.get(i), next[i]));
                }
                try (ForwardOutput out = m.forward(in, ForwardOutput.LogitsMode.LAST)) {
                    long[] ids = out.logits.argMax(1).toLongArray();
                    for (int i = 0; i < b; i++) {
                        next[i] = (int) ids[i];
                    }
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            long calls = Ops.calls() - calls0;
            return new double[] {tokens * b / secs, secs * 1000 / tokens, (double) calls / tokens};
        } finally {
            for (int i = caches.size() - 1; i >= 0; i--) {
                caches.get(i).close();
            }
        }
    }

    /**
     * Median ms of one forward of T chained new tokens (all logits) over a cache of {@code len} tokens.
     * Tree sizes are interleaved within each repetition, after a warm-up, so drift hits all alike.
     */
    private double[] verifyCurve(EngineSession session, int len) {
        LlamaModel m = session.model();
        double[][] samples = new double[treeSizes.length][repeats];
        try (KvCache c = session.pool().allocate()) {
            m.forward(List.of(SequenceInput.causal(c, syntheticTokens(len, 9, m.config.vocabSize))),
                    ForwardOutput.LogitsMode.NONE).close();
            for (int r = -5; r < repeats; r++) {
                for (int i = 0; i < treeSizes.length; i++) {
                    int[] toks = syntheticTokens(treeSizes[i], 5, m.config.vocabSize);
                    long t0 = System.nanoTime();
                    try (ForwardOutput o = m.forward(List.of(SequenceInput.causal(c, toks)), ForwardOutput.LogitsMode.ALL)) {
                        o.logits.argMax(2).toLongArray();
                    }
                    long dt = System.nanoTime() - t0;
                    c.truncate(len);
                    if (r >= 0) {
                        samples[i][r] = dt / 1e6;
                    }
                }
            }
        }
        double[] out = new double[treeSizes.length];
        for (int i = 0; i < out.length; i++) {
            Arrays.sort(samples[i]);
            out[i] = samples[i][repeats / 2];
        }
        return out;
    }
}

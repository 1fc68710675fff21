package dev.specdec.engine.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.ForwardMode;
import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.model.DraftModule;
import dev.specdec.engine.model.ForwardOutput;
import dev.specdec.engine.model.KvCache;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.NativeCalls;
import dev.specdec.engine.model.SequenceInput;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.speculative.CtcDrafter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Timed model calls for {@code bench-engine}, on one session: decoding at a batch size, prefill,
 * the verify-cost curve, and the breakdown of single steps into native calls, time in native code
 * and time in Java ({@link NativeCalls}).
 */
final class StepProbe {
    /** @param callsPerToken native calls counted through the engine's wrappers, per generated token */
    record Decode(double tokensPerSecond, double msPerStep, double callsPerToken) {
    }

    record Breakdown(String name, double ms, double calls, double nativeMs) {
    }

    private static final int CACHE = 128;
    private static final int CHAIN = 10;

    private final EngineSession session;
    private final LlamaModel model;
    private final int repeats;

    StepProbe(EngineSession session, int repeats) {
        this.session = session;
        this.model = session.model();
        this.repeats = repeats;
    }

    private int[] tokens(int n, int seed) {
        return model.config.probeTokens(n, seed);
    }

    /** So that JIT compilation, allocator state and kernel set-up do not count. */
    void warmUp(int[] batchSizes) {
        for (int b : batchSizes) {
            decode(b, 96);
        }
    }

    double prefillTokensPerSecond(int promptTokens) {
        int[] prompt = tokens(promptTokens, 1);
        long best = Long.MAX_VALUE;
        for (int r = 0; r < Math.max(3, repeats / 4); r++) {
            try (KvCache c = session.pool().allocate()) {
                long t0 = System.nanoTime();
                model.forward(List.of(SequenceInput.causal(c, prompt)), ForwardOutput.LogitsMode.LAST).close();
                best = Math.min(best, System.nanoTime() - t0);
            }
        }
        return promptTokens / (best / 1e9);
    }

    /** Greedy decode of {@code steps} tokens per sequence at batch size b. */
    Decode decode(int b, int steps) {
        List<KvCache> caches = new ArrayList<>();
        try {
            List<SequenceInput> in = new ArrayList<>();
            for (int i = 0; i < b; i++) {
                KvCache c = session.pool().allocate();
                caches.add(c);
                in.add(SequenceInput.causal(c, tokens(32, i + 2)));
            }
            int[] next = argmaxLast(in);
            long calls0 = NativeCalls.calls();
            long t0 = System.nanoTime();
            for (int step = 0; step < steps; step++) {
                in.clear();
                for (int i = 0; i < b; i++) {
                    in.add(SequenceInput.causal(caches.get(i), next[i]));
                }
                next = argmaxLast(in);
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            long calls = NativeCalls.calls() - calls0;
            return new Decode(steps * b / secs, secs * 1000 / steps, (double) calls / steps / b);
        } finally {
            dev.specdec.engine.model.KvCachePool.releaseAll(caches);
        }
    }

    private int[] argmaxLast(List<SequenceInput> in) {
        try (ForwardOutput out = model.forward(in, ForwardOutput.LogitsMode.LAST); NDArray ids = out.logits.argMax(1)) {
            return Arrays.stream(ids.toLongArray()).mapToInt(x -> (int) x).toArray();
        }
    }

    /** Median ms of one forward of T chained new tokens (all logits) over a cache of {@code len}, sizes interleaved. */
    double[] verifyCurve(int len, int[] treeSizes) {
        double[][] samples = new double[treeSizes.length][repeats];
        try (KvCache c = session.pool().allocate()) {
            model.forward(List.of(SequenceInput.causal(c, tokens(len, 9))), ForwardOutput.LogitsMode.NONE).close();
            for (int r = -5; r < repeats; r++) {
                for (int i = 0; i < treeSizes.length; i++) {
                    long t0 = System.nanoTime();
                    verify(c, treeSizes[i]);
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

    private void verify(KvCache c, int t) {
        try (ForwardOutput o = model.forward(List.of(SequenceInput.causal(c, tokens(t, 5))), ForwardOutput.LogitsMode.ALL);
             NDArray ids = o.logits.argMax(2)) {
            ids.toLongArray();
        }
    }

    /** A plain step, the verify of a chain of 11, and the CTC draft chain at depth 1 and 10 (when the model has one). */
    List<Breakdown> breakdown() {
        List<Breakdown> out = new ArrayList<>();
        try (KvCache c = session.pool().allocate()) {
            model.forward(List.of(SequenceInput.causal(c, tokens(CACHE, 9))), ForwardOutput.LogitsMode.NONE).close();
            out.add(time("plain step (T=1)", () -> {
                argmaxLast(List.of(SequenceInput.causal(c, 42)));
                c.truncate(CACHE);
            }));
            out.add(time("verify, chain of 11 (T=11)", () -> {
                verify(c, CHAIN + 1);
                c.truncate(CACHE);
            }));
        }
        Path dir = DecodingMethod.CTC.drafterDir(session.modelDir(), null);
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) {
            Breakdown one = draftChain(dir, 1);
            Breakdown ten = draftChain(dir, CHAIN);
            out.add(one);
            out.add(ten);
            out.add(new Breakdown("one draft step (of the 10)", (ten.ms() - one.ms()) / (CHAIN - 1),
                    (ten.calls() - one.calls()) / (CHAIN - 1), (ten.nativeMs() - one.nativeMs()) / (CHAIN - 1)));
        }
        return out;
    }

    /** The CTC drafter after a verify step: the accepted pair, then {@code depth} depth lists. */
    private Breakdown draftChain(Path dir, int depth) {
        try {
            DraftModule module = DraftModule.load(dir.resolve("model.safetensors"), model);
            try (CtcDrafter drafter = new CtcDrafter(module, 1, depth, 10);
                 NDManager m = model.manager().newSubManager()) {
                if (session.forward() == ForwardMode.COMPILED) {
                    module.compile();
                }
                return draftChain(drafter, m, depth);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private Breakdown draftChain(CtcDrafter drafter, NDManager m, int depth) {
        int[] prompt = tokens(CACHE, 9);
        SequenceState s = session.newSequence(new DecodeRequest("probe", prompt, SamplingParams.greedy(4)));
        s.restoreGenerated(new int[] {42});
        NDArray hidden = m.randomNormal(0, 1, new Shape(1, CACHE, model.config.hiddenSize), ai.djl.ndarray.types.DataType.FLOAT32);
        NDArray one = m.randomNormal(0, 1, new Shape(1, 1, model.config.hiddenSize), ai.djl.ndarray.types.DataType.FLOAT32);
        drafter.prefill(List.of(s), hidden, null);
        try {
            return time("draft chain, " + depth + " depth" + (depth > 1 ? "s" : ""),
                    () -> drafter.advance(List.of(s), one, new int[][] {{42}}, null));
        } finally {
            SequenceState.releaseAll(List.of(s));
        }
    }

    private Breakdown time(String name, Runnable step) {
        for (int i = 0; i < 5; i++) {
            step.run();
        }
        long calls0 = NativeCalls.calls();
        long native0 = NativeCalls.nanos();
        NativeCalls.timing(true);
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < repeats; i++) {
                step.run();
            }
        } finally {
            NativeCalls.timing(false);
        }
        double ms = (System.nanoTime() - t0) / 1e6 / repeats;
        return new Breakdown(name, ms, (double) (NativeCalls.calls() - calls0) / repeats,
                (NativeCalls.nanos() - native0) / 1e6 / repeats);
    }

    /** A profiler trace of a few plain steps and a verify of 11 tokens. */
    void profile(Path file) {
        try (KvCache c = session.pool().allocate()) {
            model.forward(List.of(SequenceInput.causal(c, tokens(CACHE, 9))), ForwardOutput.LogitsMode.NONE).close();
            JniUtils.startProfile(false, false, false);
            try {
                for (int i = 0; i < 5; i++) {
                    argmaxLast(List.of(SequenceInput.causal(c, 42)));
                    c.truncate(CACHE);
                }
                verify(c, CHAIN + 1);
            } finally {
                JniUtils.stopProfile(file.toString());
            }
        }
    }
}

package dev.specdec.engine.speculative;

import dev.specdec.engine.model.ForwardOutput;
import dev.specdec.engine.model.KvCache;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.SequenceInput;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a speculative step costs on this machine, in milliseconds, measured: the verify forward of B
 * sequences with T new tokens each, and the draft chain of B sequences (the first pass over the
 * accepted pairs with its first depth list, then each further depth). Verify costs are measured on
 * scratch caches (chains passed with tree masks, the path verification takes) at anchor batch sizes
 * (1, 2, 4, 8, ... and the largest batch), at warm-up or else the first time a step needs one, and
 * interpolated between them; each batch size then follows the verify forwards the decoder times (an
 * exponential average of the ratio measured / predicted). The draft costs are kept as shares of
 * a one-token verify forward, starting from fixed shares and following what the drafter's calls
 * take: a machine whose speed changes (another tenant, another process) moves both alike, so a draft
 * cost last seen when the machine was slow does not stay too high while drafting is paused.
 */
public final class CostModel {
    /** New tokens per sequence at which the verify forward is measured; between them it is interpolated. */
    static final int[] TOKENS = {1, 2, 4, 8, 16};
    private static final int SCRATCH_ROWS = 64;
    private static final double FOLLOW = 0.1;
    /** Before any chain is timed: the draft chain's first depth and each further one, as shares of a one-token forward. */
    private static final double FIRST_PASS_SHARE = 0.15;
    private static final double DEPTH_SHARE = 0.12;

    private final LlamaModel model;
    /** The largest batch size the decoder runs: anchors stop there (a larger one would only be interpolated towards). */
    private final int maxBatch;
    /** Anchor batch size -> verify ms at each of {@link #TOKENS}. */
    private final TreeMap<Integer, double[]> verify = new TreeMap<>();
    /** Batch size -> how much slower than the anchors' interpolation its forwards have been lately. */
    private final Map<Integer, Double> drift = new TreeMap<>();
    private final Map<Integer, double[]> draft = new TreeMap<>();     // B -> {first pass, each further depth}

    public CostModel(LlamaModel model, int maxBatch) {
        this.model = model;
        this.maxBatch = Math.max(1, maxBatch);
    }

    /** Verify forward of {@code b} sequences with {@code t} new tokens each. */
    public double verifyMs(int b, int t) {
        int lo = Integer.highestOneBit(b);
        int hi = Math.min(2 * lo, maxBatch);
        double at;
        if (lo == b || hi <= b) {
            at = anchorMs(b, t);                // an anchor, or beyond the largest batch: measured as it is
        } else {
            double w = (double) (b - lo) / (hi - lo);
            at = (1 - w) * anchorMs(lo, t) + w * anchorMs(hi, t);
        }
        return at * drift.getOrDefault(b, 1.0);
    }

    /**
     * Measures every anchor up to {@code maxBatch} now (the powers of two below it and it), so that
     * no step pays for a measurement later: a server does this while it warms up.
     */
    public void measureAnchors() {
        for (int b = 1; b < maxBatch; b *= 2) {
            verify.computeIfAbsent(b, this::measureVerify);
        }
        verify.computeIfAbsent(maxBatch, this::measureVerify);
    }

    /** The batch sizes measured so far. */
    java.util.Set<Integer> anchors() {
        return verify.keySet();
    }

    /** The measured curve of anchor batch size {@code b}, interpolated between its token counts. */
    private double anchorMs(int b, int t) {
        double[] row = verify.computeIfAbsent(b, this::measureVerify);
        if (t <= TOKENS[0]) {
            return row[0];
        }
        for (int j = 1; j < TOKENS.length; j++) {
            if (t <= TOKENS[j]) {
                double w = (double) (t - TOKENS[j - 1]) / (TOKENS[j] - TOKENS[j - 1]);
                return row[j - 1] + (row[j] - row[j - 1]) * w;
            }
        }
        return row[row.length - 1];              // beyond the last point: flat (a bigger tree is never proposed)
    }

    /** The draft chain of {@code b} sequences producing {@code depth} depth lists (0: no drafting). */
    public double draftMs(int b, int depth) {
        if (depth <= 0) {
            return 0;
        }
        double[] d = draftRow(b);
        return verifyMs(b, 1) * (d[0] + d[1] * (depth - 1));
    }

    /**
     * The cost of a step that verifies {@code depth} drafted tokens per sequence and drafts
     * {@code depth} lists for the next one, for depth 0 .. {@code maxDepth}.
     */
    public double[] stepMs(int b, int maxDepth) {
        double[] c = new double[maxDepth + 1];
        for (int k = 0; k <= maxDepth; k++) {
            c[k] = verifyMs(b, k + 1) + draftMs(b, Math.max(1, k));
        }
        return c;
    }

    /** A verify forward that took {@code ms}: the batch size's costs follow it. */
    public void observeVerify(int b, int t, double ms) {
        double ratio = Math.max(0.5, Math.min(2.0, ms / verifyMs(b, t)));
        drift.put(b, drift.getOrDefault(b, 1.0) * (1 + FOLLOW * (ratio - 1)));
    }

    /** A draft chain that produced {@code depth} lists in {@code ms}. */
    public void observeDraft(int b, int depth, double ms) {
        if (depth <= 0) {
            return;
        }
        double[] d = draftRow(b);
        double share = ms / verifyMs(b, 1);
        if (depth == 1) {
            d[0] += FOLLOW * (share - d[0]);
        } else {
            double perDepth = Math.max(0, (share - d[0]) / (depth - 1));
            d[1] += FOLLOW * (perDepth - d[1]);
        }
    }

    /** {first depth, each further depth} as shares of a one-token verify forward of the batch. */
    private double[] draftRow(int b) {
        return draft.computeIfAbsent(b, k -> new double[] {FIRST_PASS_SHARE, DEPTH_SHARE});
    }

    /**
     * Median of three forwards per point (after one untimed), on {@code b} scratch caches of
     * {@link #SCRATCH_ROWS} rows: about 20 forwards, a few hundred milliseconds once per anchor.
     */
    private double[] measureVerify(int b) {
        try (KvCachePool scratch = model.newCachePool(b, SCRATCH_ROWS + TOKENS[TOKENS.length - 1])) {
            return measureVerify(scratch, b);
        }
    }

    private double[] measureVerify(KvCachePool scratch, int b) {
        List<KvCache> caches = new ArrayList<>();
        try {
            List<SequenceInput> fill = new ArrayList<>();
            for (int i = 0; i < b; i++) {
                KvCache c = scratch.allocate();
                caches.add(c);
                fill.add(SequenceInput.causal(c, tokens(SCRATCH_ROWS, i)));
            }
            model.forward(fill, ForwardOutput.LogitsMode.NONE).close();
            double[] row = new double[TOKENS.length];
            for (int ti = 0; ti < TOKENS.length; ti++) {
                double[] samples = new double[3];
                for (int r = -1; r < samples.length; r++) {
                    List<SequenceInput> in = new ArrayList<>();
                    for (int i = 0; i < b; i++) {
                        in.add(chain(caches.get(i), tokens(TOKENS[ti], i + 7)));
                    }
                    long t0 = System.nanoTime();
                    model.forward(in, ForwardOutput.LogitsMode.ALL).close();
                    if (r >= 0) {
                        samples[r] = (System.nanoTime() - t0) / 1e6;
                    }
                    caches.forEach(c -> c.truncate(SCRATCH_ROWS));
                }
                Arrays.sort(samples);
                row[ti] = samples[1];
            }
            // A forward of more tokens never costs less (medians of a noisy machine can say otherwise).
            for (int ti = 1; ti < row.length; ti++) {
                row[ti] = Math.max(row[ti], row[ti - 1]);
            }
            return row;
        } finally {
            KvCachePool.releaseAll(caches);
        }
    }

    /** A chain of new tokens with a tree mask, as verification passes it (the masked attention path). */
    private static SequenceInput chain(KvCache cache, int[] tokens) {
        int n = tokens.length;
        int[] positions = new int[n];
        boolean[][] mask = new boolean[n][n];
        for (int i = 0; i < n; i++) {
            positions[i] = cache.length() + i;
            for (int j = 0; j <= i; j++) {
                mask[i][j] = true;
            }
        }
        return new SequenceInput(cache, tokens, positions, mask);
    }

    private int[] tokens(int n, int seed) {
        return model.config.probeTokens(n, seed);
    }

    /** The measured table, for {@code bench-engine}. */
    public String describe(int b) {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "batch %d: verify ms by new tokens", b));
        for (int t : TOKENS) {
            s.append(String.format(Locale.ROOT, "  %d:%.2f", t, verifyMs(b, t)));
        }
        s.append(String.format(Locale.ROOT, "; draft ms first depth %.2f, each further %.2f", draftMs(b, 1),
                draftMs(b, 2) - draftMs(b, 1)));
        return s.toString();
    }
}

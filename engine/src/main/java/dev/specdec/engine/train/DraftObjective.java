package dev.specdec.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import dev.specdec.engine.model.ModelConfig;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The trainable draft models and their losses on a batch of base-model features.
 *
 * <p>CTC drafter (paper section 3): inputs (H[t] + noise, w[t+1]) give f_t; loss =
 * SmoothL1(f_t, H[t+1]) + 0.1 * softCE(softmax(W H[t+1]), W f_t) + w_ctc * CTC, where the CTC term
 * asks every run of {@code frames} consecutive draft outputs to collapse to the base model's next
 * {@code labels} greedy tokens (blank = {@code blank}), normalised by the label count.
 *
 * <p>Medusa: head k on H[t] is trained with cross-entropy against the base model's greedy token
 * k positions further on, heads weighted 0.8^(k-1).
 */
public final class DraftObjective {
    public enum Kind { CTC, MEDUSA }

    public final Kind kind;
    public final ModelConfig config;
    private final Map<String, NDArray> params = new LinkedHashMap<>();
    private final NDArray embed;      // frozen [V, H]
    private final NDArray lmHead;     // frozen [V, H]
    private final TrainGraph graph;
    private final int heads;
    private final double ctcWeight;
    private final int frames;
    private final int labels;
    private final int blank;
    private final double noise;
    private final NDArray one;
    private final NDArray half;
    private final NDArray ceWeight;
    private final NDArray ctcScale;

    public DraftObjective(Kind kind, ModelConfig config, NDManager m, NDArray embed, NDArray lmHead, int window,
                          int heads, double ctcWeight, int frames, int labels, int blank, double noise, long seed) {
        this.kind = kind;
        this.config = config;
        this.embed = embed;
        this.lmHead = lmHead;
        this.graph = new TrainGraph(m, config, window);
        this.heads = heads;
        this.ctcWeight = ctcWeight;
        this.frames = frames;
        this.labels = labels;
        this.blank = blank;
        this.noise = noise;
        this.one = m.full(new Shape(), 1f, DataType.FLOAT32);
        this.half = m.full(new Shape(), 0.5f, DataType.FLOAT32);
        this.ceWeight = m.full(new Shape(), 0.1f, DataType.FLOAT32);
        this.ctcScale = m.full(new Shape(), (float) (ctcWeight / labels), DataType.FLOAT32);
        SplittableRandom rnd = new SplittableRandom(seed);
        long h = config.hiddenSize;
        if (kind == Kind.CTC) {
            params.put("fc.weight", TrainableLlama.normal(m, rnd, 0.02, h, 2 * h));
            params.put("fc.bias", m.zeros(new Shape(h)));
            params.put("layers.0.self_attn.q_proj.weight", TrainableLlama.normal(m, rnd, 0.02, config.qDim(), h));
            params.put("layers.0.self_attn.k_proj.weight", TrainableLlama.normal(m, rnd, 0.02, config.kvDim(), h));
            params.put("layers.0.self_attn.v_proj.weight", TrainableLlama.normal(m, rnd, 0.02, config.kvDim(), h));
            params.put("layers.0.self_attn.o_proj.weight", TrainableLlama.normal(m, rnd, 0.02, h, config.qDim()));
            params.put("layers.0.post_attention_layernorm.weight", m.ones(new Shape(h)));
            params.put("layers.0.mlp.gate_proj.weight", TrainableLlama.normal(m, rnd, 0.02, config.intermediateSize, h));
            params.put("layers.0.mlp.up_proj.weight", TrainableLlama.normal(m, rnd, 0.02, config.intermediateSize, h));
            params.put("layers.0.mlp.down_proj.weight", TrainableLlama.normal(m, rnd, 0.02, h, config.intermediateSize));
        } else {
            for (int k = 0; k < heads; k++) {
                // Zero residual blocks: every head starts as the base model's own LM head.
                params.put("medusa_head." + k + ".0.linear.weight", m.zeros(new Shape(h, h)));
                params.put("medusa_head." + k + ".0.linear.bias", m.zeros(new Shape(h)));
            }
        }
    }

    public Map<String, NDArray> parameters() {
        return params;
    }

    /** Loads parameters saved earlier (resume), by name. */
    public void loadParameters(Map<String, NDArray> saved) {
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            NDArray s = saved.get(e.getKey());
            if (s == null) {
                throw new IllegalStateException("checkpoint lacks " + e.getKey());
            }
            e.getValue().subi(e.getValue()).addi(s);
        }
    }

    /** Loss terms and accuracy of one batch. */
    public record Losses(NDArray total, float regression, float softCe, float ctc, float top1, int ctcWindows) {
    }

    private static NDArray linear(NDArray x, NDArray w) {
        return Linear.linear(x, w).singletonOrThrow();
    }

    /**
     * Losses on features of B windows: tokens [B, T], base greedy labels [B, T] (labels[t] =
     * argmax W H[t]), base hidden states [B, T, H]. {@code step} seeds the input noise.
     */
    public Losses losses(NDManager m, NDArray tokens, NDArray labelIds, int[][] labelHost, NDArray hidden, long seed,
                         long step, boolean train) {
        return kind == Kind.CTC ? ctcLosses(m, tokens, labelIds, labelHost, hidden, seed, step, train)
                : medusaLosses(m, labelIds, hidden);
    }

    private Losses ctcLosses(NDManager m, NDArray tokens, NDArray labelIds, int[][] labelHost, NDArray hidden,
                             long seed, long step, boolean train) {
        long b = hidden.getShape().get(0);
        int t = (int) hidden.getShape().get(1);
        long h = hidden.getShape().get(2);
        int n = t - 1;                                                  // draft positions per window
        NDArray hIn = hidden.get(":, 0:" + n + ", :");
        if (train && noise > 0) {
            SplittableRandom rnd = new SplittableRandom(seed * 0x2545F4914F6CDD1DL + step);
            float[] u = new float[(int) (b * n * h)];
            for (int i = 0; i < u.length; i++) {
                u[i] = (float) ((rnd.nextDouble() * 2 - 1) * noise);
            }
            hIn = hIn.add(m.create(u, new Shape(b, n, h)));
        }
        NDArray next = tokens.get(":, 1:" + t);                         // w[t+1]
        NDArray e = embed.get(next.reshape(-1)).reshape(b, n, h);
        NDArray z = Linear.linear(e.concat(hIn, 2), params.get("fc.weight"), params.get("fc.bias")).singletonOrThrow();
        NDArray f = graph.decoderLayer(z, new TrainGraph.Layer(null,
                params.get("layers.0.self_attn.q_proj.weight"), params.get("layers.0.self_attn.k_proj.weight"),
                params.get("layers.0.self_attn.v_proj.weight"), null, null, null,
                params.get("layers.0.self_attn.o_proj.weight"), params.get("layers.0.post_attention_layernorm.weight"),
                params.get("layers.0.mlp.gate_proj.weight"), params.get("layers.0.mlp.up_proj.weight"),
                params.get("layers.0.mlp.down_proj.weight")));             // [B, n, H]
        NDArray target = hidden.get(":, 1:" + t + ", :");
        NDArray p = linear(target, lmHead).softmax(-1);                  // base distribution, constant
        // SmoothL1 with beta 1: 0.5 d^2 where |d| < 1, |d| - 0.5 elsewhere, written with min() so it stays smooth.
        NDArray d = f.sub(target).abs();
        NDArray mn = d.minimum(one);
        NDArray reg = mn.square().mul(half).add(d.sub(mn)).mean();
        NDArray logq = linear(f, lmHead).logSoftmax(-1);                  // [B, n, V]
        NDArray ce = p.mul(logq).sum(new int[] {-1}).mean().neg();
        NDArray total = reg.add(ce.mul(ceWeight));
        float ctcValue = 0;
        int windows = 0;
        if (ctcWeight > 0 && n >= frames) {
            long v = config.vocabSize;
            int perRow = n - frames + 1;
            int s = 2 * labels + 1;
            int[][] ext = new int[(int) b * perRow][];
            long[] idx = new long[(int) (b * perRow * frames * s)];
            int w = 0;
            for (int bi = 0; bi < b; bi++) {
                for (int u = 0; u < perRow; u++, w++) {
                    int[] lab = new int[labels];
                    for (int j = 0; j < labels; j++) {
                        lab[j] = labelHost[bi][u + j + 1];              // y_{u+j} = argmax W H[u+j+1]
                    }
                    ext[w] = CtcLoss.extend(lab, blank);
                    for (int fr = 0; fr < frames; fr++) {
                        long row = (long) bi * n + u + fr;
                        for (int j = 0; j < s; j++) {
                            idx[(w * frames + fr) * s + j] = row * v + ext[w][j];
                        }
                    }
                }
            }
            NDArray emissions = logq.reshape(-1).take(m.create(idx)).reshape(w, frames, s);
            NDArray nll = CtcLoss.nllFromEmissions(emissions, ext, blank);
            NDArray ctc = nll.mean();
            ctcValue = ctc.getFloat() / labels;
            windows = w;
            total = total.add(ctc.mul(ctcScale));
        }
        NDArray y = labelIds.get(":, 1:" + t);
        float top1 = logq.argMax(2).eq(y).toType(DataType.FLOAT32, false).mean().getFloat();
        return new Losses(total, reg.getFloat(), ce.getFloat(), ctcValue, top1, windows);
    }

    private Losses medusaLosses(NDManager m, NDArray labelIds, NDArray hidden) {
        int t = (int) hidden.getShape().get(1);
        NDArray total = null;
        float top1Head1 = 0;
        float ce1 = 0;
        double weight = 1;
        double weightSum = 0;
        for (int k = 1; k <= heads; k++) {
            int n = t - k;
            NDArray hk = hidden.get(":, 0:" + n + ", :");
            String p = "medusa_head." + (k - 1) + ".0.linear.";
            NDArray pre = Linear.linear(hk, params.get(p + "weight"), params.get(p + "bias")).singletonOrThrow();
            NDArray act = pre.mul(Activation.sigmoid(pre)).add(hk);
            NDArray logits = linear(act, lmHead);                                  // [B, n, V]
            NDArray y = labelIds.get(":, " + k + ":" + t);
            NDArray logp = logits.logSoftmax(-1);
            NDArray nll = logp.gather(y.expandDims(2), 2).neg().mean();
            NDArray wk = m.full(new Shape(), (float) weight, DataType.FLOAT32);
            total = total == null ? nll.mul(wk) : total.add(nll.mul(wk));
            weightSum += weight;
            if (k == 1) {
                top1Head1 = logp.argMax(2).eq(y).toType(DataType.FLOAT32, false).mean().getFloat();
                ce1 = nll.getFloat();
            }
            weight *= 0.8;
        }
        NDArray norm = m.full(new Shape(), (float) (1.0 / weightSum), DataType.FLOAT32);
        return new Losses(total.mul(norm), 0, ce1, 0, top1Head1, 0);
    }

    public void close() {
        graph.close();
    }
}

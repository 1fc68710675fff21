package dev.specdec.engine.testing;

import java.util.Map;

/**
 * A deliberately plain double-precision LLaMA forward pass (no cache, no batching, loops only),
 * written independently of the engine, as the oracle for checkpoint-format tests.
 */
public final class ReferenceLlama {
    /** Architecture of the reference (mirrors what the test writes into config.json). */
    public record Spec(int hidden, int inter, int layers, int heads, int kvHeads, int headDim, int vocab, double eps,
                       boolean tied, boolean qkvBias, boolean oBias, boolean mlpBias, int window, double[] invFreq,
                       double attentionScale) {
    }

    private final Spec s;
    private final Map<String, float[]> w;

    public ReferenceLlama(Spec spec, Map<String, float[]> weights) {
        this.s = spec;
        this.w = weights;
    }

    /** HF default inverse frequencies 1 / theta^(2i/d). */
    public static double[] defaultInvFreq(double theta, int dim) {
        double[] f = new double[dim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = 1.0 / Math.pow(theta, 2.0 * i / dim);
        }
        return f;
    }

    /** LLaMA 3.1 frequency scaling (low frequencies divided by factor, a smooth ramp in between). */
    public static double[] llama3InvFreq(double theta, int dim, double factor, double low, double high, double oldCtx) {
        double[] f = defaultInvFreq(theta, dim);
        double lowWavelen = oldCtx / low;
        double highWavelen = oldCtx / high;
        for (int i = 0; i < f.length; i++) {
            double wavelen = 2 * Math.PI / f[i];
            if (wavelen < highWavelen) {
                continue;   // high frequency: unchanged
            }
            if (wavelen > lowWavelen) {
                f[i] = f[i] / factor;
            } else {
                double smooth = (oldCtx / wavelen - low) / (high - low);
                f[i] = (1 - smooth) * f[i] / factor + smooth * f[i];
            }
        }
        return f;
    }

    private double[] vec(String name) {
        float[] a = w.get(name);
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    /** y = W x (+ b), W stored row-major [out, in]. */
    private double[] matvec(String weight, String bias, double[] x) {
        float[] m = w.get(weight);
        int in = x.length;
        int out = m.length / in;
        double[] y = new double[out];
        float[] b = bias == null ? null : w.get(bias);
        for (int o = 0; o < out; o++) {
            double acc = b == null ? 0 : b[o];
            for (int i = 0; i < in; i++) {
                acc += m[o * in + i] * x[i];
            }
            y[o] = acc;
        }
        return y;
    }

    private double[] rms(double[] x, String gain) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double r = 1.0 / Math.sqrt(ss / x.length + s.eps);
        float[] g = w.get(gain);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] * r * g[i];
        }
        return y;
    }

    private void rope(double[] v, int heads, int pos) {
        int hd = s.headDim;
        int half = hd / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                double angle = pos * s.invFreq[i];
                double c = Math.cos(angle) * s.attentionScale;
                double sn = Math.sin(angle) * s.attentionScale;
                double a = v[h * hd + i];
                double b = v[h * hd + half + i];
                v[h * hd + i] = a * c - b * sn;
                v[h * hd + half + i] = b * c + a * sn;
            }
        }
    }

    /** Logits [T][V] for tokens at positions 0..T-1. */
    public double[][] logits(int[] tokens) {
        int t = tokens.length;
        int h = s.hidden;
        int hd = s.headDim;
        double[][] x = new double[t][];
        float[] emb = w.get("model.embed_tokens.weight");
        for (int i = 0; i < t; i++) {
            x[i] = new double[h];
            for (int j = 0; j < h; j++) {
                x[i][j] = emb[tokens[i] * h + j];
            }
        }
        for (int l = 0; l < s.layers; l++) {
            String p = "model.layers." + l + ".";
            double[][] q = new double[t][];
            double[][] k = new double[t][];
            double[][] v = new double[t][];
            for (int i = 0; i < t; i++) {
                double[] n = rms(x[i], p + "input_layernorm.weight");
                q[i] = matvec(p + "self_attn.q_proj.weight", s.qkvBias ? p + "self_attn.q_proj.bias" : null, n);
                k[i] = matvec(p + "self_attn.k_proj.weight", s.qkvBias ? p + "self_attn.k_proj.bias" : null, n);
                v[i] = matvec(p + "self_attn.v_proj.weight", s.qkvBias ? p + "self_attn.v_proj.bias" : null, n);
                rope(q[i], s.heads, i);
                rope(k[i], s.kvHeads, i);
            }
            int group = s.heads / s.kvHeads;
            for (int i = 0; i < t; i++) {
                double[] attn = new double[s.heads * hd];
                for (int head = 0; head < s.heads; head++) {
                    int kvh = head / group;
                    double[] sc = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        if (s.window > 0 && i - j >= s.window) {
                            sc[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double d = 0;
                        for (int e = 0; e < hd; e++) {
                            d += q[i][head * hd + e] * k[j][kvh * hd + e];
                        }
                        sc[j] = d / Math.sqrt(hd);
                        max = Math.max(max, sc[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        sc[j] = Math.exp(sc[j] - max);
                        sum += sc[j];
                    }
                    for (int j = 0; j <= i; j++) {
                        for (int e = 0; e < hd; e++) {
                            attn[head * hd + e] += sc[j] / sum * v[j][kvh * hd + e];
                        }
                    }
                }
                double[] o = matvec(p + "self_attn.o_proj.weight", s.oBias ? p + "self_attn.o_proj.bias" : null, attn);
                for (int j = 0; j < h; j++) {
                    x[i][j] += o[j];
                }
                double[] n2 = rms(x[i], p + "post_attention_layernorm.weight");
                double[] g = matvec(p + "mlp.gate_proj.weight", s.mlpBias ? p + "mlp.gate_proj.bias" : null, n2);
                double[] u = matvec(p + "mlp.up_proj.weight", s.mlpBias ? p + "mlp.up_proj.bias" : null, n2);
                for (int j = 0; j < g.length; j++) {
                    g[j] = g[j] / (1 + Math.exp(-g[j])) * u[j];
                }
                double[] d = matvec(p + "mlp.down_proj.weight", s.mlpBias ? p + "mlp.down_proj.bias" : null, g);
                for (int j = 0; j < h; j++) {
                    x[i][j] += d[j];
                }
            }
        }
        double[][] out = new double[t][];
        String head = s.tied ? "model.embed_tokens.weight" : "lm_head.weight";
        for (int i = 0; i < t; i++) {
            out[i] = matvec(head, null, rms(x[i], "model.norm.weight"));
        }
        return out;
    }
}

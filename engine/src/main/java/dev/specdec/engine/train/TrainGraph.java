package dev.specdec.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import dev.specdec.engine.model.ModelConfig;

import java.util.HashMap;
import java.util.Map;

/**
 * Differentiable building blocks of a LLaMA decoder for training on DJL autograd (full causal
 * sequences, no cache), shared by base-model pretraining and draft-module training.
 *
 * <p>DJL pitfall: the {@code Number} overloads of NDArray arithmetic wrap the number in memory that is
 * freed right after the call while autograd still refers to it, so a garbage collection between
 * forward and backward corrupts the gradient. Every constant used here is a tensor owned by
 * PyTorch ({@code full}) or kept open for the life of this object.
 */
public final class TrainGraph implements AutoCloseable {
    private final NDManager constants;
    private final ModelConfig config;
    private final NDArray eps;          // scalar rms_norm_eps
    private final NDArray scale;        // scalar 1/sqrt(headDim)
    private final NDArray rotateHalf;   // [headDim, headDim]
    private final NDArray cos;          // [maxT, headDim]
    private final NDArray sin;          // [maxT, headDim]
    private final int maxT;
    private final Map<Integer, NDArray> causalMasks = new HashMap<>();

    public TrainGraph(NDManager parent, ModelConfig config, int maxT) {
        this.constants = parent.newSubManager();
        this.config = config;
        this.maxT = maxT;
        this.eps = constants.full(new Shape(), (float) config.rmsNormEps, DataType.FLOAT32);
        this.scale = constants.full(new Shape(), (float) (1.0 / Math.sqrt(config.headDim)), DataType.FLOAT32);
        int hd = config.headDim;
        int half = hd / 2;
        float[] r = new float[hd * hd];
        for (int j = 0; j < half; j++) {
            r[(j + half) * hd + j] = -1f;
            r[j * hd + j + half] = 1f;
        }
        this.rotateHalf = constants.create(r, new Shape(hd, hd));
        float[] c = new float[maxT * hd];
        float[] s = new float[maxT * hd];
        for (int t = 0; t < maxT; t++) {
            config.rope.cosSin(t, c, s, t * hd);
        }
        this.cos = constants.create(c, new Shape(maxT, hd));
        this.sin = constants.create(s, new Shape(maxT, hd));
    }

    public ModelConfig config() {
        return config;
    }

    /** RMSNorm with gain: x / sqrt(mean(x^2) + eps) * gain. */
    public NDArray rmsNorm(NDArray x, NDArray gain) {
        NDArray ms = x.square().mean(new int[] {-1}, true);
        return x.div(ms.add(eps).sqrt()).mul(gain);
    }

    /** Additive causal mask for grouped queries: [group * T, T], 0 on and below the diagonal. */
    private NDArray causalMask(int t) {
        return causalMasks.computeIfAbsent(t, n -> {
            int g = config.groupSize();
            float[] m = new float[g * n * n];
            for (int gi = 0; gi < g; gi++) {
                for (int i = 0; i < n; i++) {
                    for (int j = i + 1; j < n; j++) {
                        m[(gi * n + i) * n + j] = -1e9f;
                    }
                }
            }
            NDArray mask = constants.create(m, new Shape((long) g * n, n));
            NDScope.unregister(mask);   // built lazily, possibly inside a training step's scope
            return mask;
        });
    }

    /** Weights of one decoder layer, HF layout ({@code [out, in]}). Biases and input norm may be null. */
    public record Layer(NDArray inputNorm, NDArray q, NDArray k, NDArray v, NDArray bq, NDArray bk, NDArray bv,
                        NDArray o, NDArray postNorm, NDArray gate, NDArray up, NDArray down) {
    }

    private static NDArray linear(NDArray x, NDArray w, NDArray b) {
        return b == null ? Linear.linear(x, w).singletonOrThrow() : Linear.linear(x, w, b).singletonOrThrow();
    }

    /** One decoder layer over x [B, T, H] at positions 0..T-1; returns the new residual stream. */
    public NDArray decoderLayer(NDArray x, Layer w) {
        long b = x.getShape().get(0);
        int t = (int) x.getShape().get(1);
        if (t > maxT) {
            throw new IllegalArgumentException("sequence of " + t + " exceeds the training length " + maxT);
        }
        int nh = config.numHeads;
        int nkv = config.numKvHeads;
        int hd = config.headDim;
        int g = config.groupSize();
        NDArray h = w.inputNorm() == null ? x : rmsNorm(x, w.inputNorm());
        NDArray c = cos.get("0:" + t).reshape(1, t, 1, hd);
        NDArray s = sin.get("0:" + t).reshape(1, t, 1, hd);
        NDArray q = linear(h, w.q(), w.bq()).reshape(b, t, nh, hd);
        NDArray k = linear(h, w.k(), w.bk()).reshape(b, t, nkv, hd);
        NDArray v = linear(h, w.v(), w.bv()).reshape(b, t, nkv, hd);
        q = q.mul(c).add(q.matMul(rotateHalf).mul(s));
        k = k.mul(c).add(k.matMul(rotateHalf).mul(s));
        // Queries grouped by KV head: [B, nkv, g*T, hd]; keys and values [B, nkv, T, hd].
        NDArray qg = q.reshape(b, t, nkv, g, hd).transpose(0, 2, 3, 1, 4).reshape(b, nkv, (long) g * t, hd);
        NDArray kt = k.transpose(0, 2, 3, 1);                  // [B, nkv, hd, T]
        NDArray vt = v.transpose(0, 2, 1, 3);                  // [B, nkv, T, hd]
        NDArray attn = groupedAttention(qg, kt, vt, t);        // [B, nkv, g*T, hd]
        NDArray merged = attn.reshape(b, nkv, g, t, hd).transpose(0, 3, 1, 2, 4).reshape(b, t, (long) nh * hd);
        NDArray x1 = x.add(linear(merged, w.o(), null));
        NDArray h2 = rmsNorm(x1, w.postNorm());
        NDArray gate = linear(h2, w.gate(), null);
        NDArray act = gate.mul(Activation.sigmoid(gate));
        NDArray mlp = linear(act.mul(linear(h2, w.up(), null)), w.down(), null);
        return x1.add(mlp);
    }

    /**
     * softmax(q k^T * scale + causal) v, computed a few KV heads at a time so that no score tensor
     * exceeds {@link #MAX_SCORE_BYTES}: glibc serves larger blocks with fresh mmaps, and faulting in
     * gigabytes of new pages per step made training several times slower than the arithmetic.
     */
    private NDArray groupedAttention(NDArray qg, NDArray kt, NDArray vt, int t) {
        long b = qg.getShape().get(0);
        long nkv = qg.getShape().get(1);
        long rows = qg.getShape().get(2);
        long perHead = b * rows * t * 4L;
        long headsPerChunk = Math.max(1, Math.min(nkv, MAX_SCORE_BYTES / Math.max(1, perHead)));
        NDArray mask = causalMask(t);
        if (headsPerChunk >= nkv) {
            return qg.matMul(kt).mul(scale).add(mask).softmax(-1).matMul(vt);
        }
        ai.djl.ndarray.NDList parts = new ai.djl.ndarray.NDList();
        for (long h0 = 0; h0 < nkv; h0 += headsPerChunk) {
            String r = ":, " + h0 + ":" + Math.min(nkv, h0 + headsPerChunk);
            parts.add(qg.get(r).matMul(kt.get(r)).mul(scale).add(mask).softmax(-1).matMul(vt.get(r)));
        }
        return ai.djl.ndarray.NDArrays.concat(parts, 1);
    }

    /** Largest attention score tensor built at once (see {@link #groupedAttention}). */
    static final long MAX_SCORE_BYTES = 16L << 20;

    /** Mean negative log-likelihood of {@code targets [N]} under {@code logits [N, V]}, weighted by {@code weights [N]}. */
    public NDArray crossEntropy(NDArray logits, NDArray targets, NDArray weights) {
        NDArray logp = logits.logSoftmax(-1);
        NDArray picked = logp.gather(targets.reshape(-1, 1), 1).reshape(-1);
        NDArray nll = picked.neg().mul(weights);
        return nll.sum().div(weights.sum());
    }

    /** Soft cross-entropy {@code -sum p log q} averaged with weights: targets are probabilities [N, V]. */
    public NDArray softCrossEntropy(NDArray logits, NDArray targetProbs, NDArray weights) {
        NDArray logq = logits.logSoftmax(-1);
        NDArray ce = targetProbs.mul(logq).sum(new int[] {-1}).neg();
        return ce.mul(weights).sum().div(weights.sum());
    }

    public NDManager constants() {
        return constants;
    }

    @Override
    public void close() {
        constants.close();
    }
}

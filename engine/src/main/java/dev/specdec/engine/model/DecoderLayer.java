package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * One LLaMA decoder layer for inference: RMSNorm -> grouped-query attention with RoPE over the KV
 * cache -> residual -> RMSNorm -> SwiGLU MLP -> residual.
 *
 * <p>Weights are rearranged at load time so a token costs few native calls: q/k/v are one
 * projection, gate/up are one projection, each RMSNorm's gain is folded into the projection that
 * follows it, and the 1/sqrt(headDim) attention scale is folded into the query rows. The draft
 * module's layer skips the input norm ({@code inputNorm == false}).
 */
public final class DecoderLayer {
    private final int numHeads;
    private final int kvHeads;
    private final int headDim;
    private final int group;
    private final boolean inputNorm;
    private final RmsNorm norm;
    private final NDArray rotateHalf;   // [headDim, headDim]: x @ R == cat(-x2, x1)
    private final NDArray wQkv;         // [(heads + 2 kvHeads) * headDim, H]
    private final NDArray bQkv;         // [(heads + 2 kvHeads) * headDim] or null
    private final NDArray wO;           // [H, heads * headDim]
    private final NDArray bO;           // [H] or null
    private final NDArray wGateUp;      // [2 I, H]
    private final NDArray bGateUp;      // [2 I] or null
    private final NDArray wDown;        // [H, I]
    private final NDArray bDown;        // [H] or null
    private final long intermediate;

    DecoderLayer(ModelConfig c, boolean inputNorm, RmsNorm norm, NDArray rotateHalf, NDArray wQkv, NDArray bQkv,
                 NDArray wO, NDArray bO, NDArray wGateUp, NDArray bGateUp, NDArray wDown, NDArray bDown) {
        this.numHeads = c.numHeads;
        this.kvHeads = c.numKvHeads;
        this.headDim = c.headDim;
        this.group = c.groupSize();
        this.inputNorm = inputNorm;
        this.norm = norm;
        this.rotateHalf = rotateHalf;
        this.wQkv = wQkv;
        this.bQkv = bQkv;
        this.wO = wO;
        this.bO = bO;
        this.wGateUp = wGateUp;
        this.bGateUp = bGateUp;
        this.wDown = wDown;
        this.bDown = bDown;
        this.intermediate = c.intermediateSize;
    }

    /**
     * Builds a layer from HF-layout tensors (as stored in checkpoints), folding norms and scales.
     * {@code inputNormGain} is null for a layer without input norm.
     */
    static DecoderLayer fromCheckpoint(ModelConfig c, NDManager m, RmsNorm norm, NDArray rotateHalf,
                                       NDArray inputNormGain, NDArray q, NDArray k, NDArray v,
                                       NDArray bq, NDArray bk, NDArray bv, NDArray o, NDArray bo,
                                       NDArray postNormGain, NDArray gate, NDArray up, NDArray down,
                                       NDArray bGate, NDArray bUp, NDArray bDown) {
        float scale = (float) (1.0 / Math.sqrt(c.headDim));
        NDArray qScaled = q.mul(scale);
        NDArray qkv = qScaled.concat(k, 0).concat(v, 0);
        if (inputNormGain != null) {
            qkv = qkv.mul(inputNormGain.reshape(1, -1));
        }
        NDArray qkvBias = null;
        if (bq != null || bk != null || bv != null) {
            NDArray zq = bq != null ? bq.mul(scale) : m.zeros(new ai.djl.ndarray.types.Shape(c.qDim()));
            NDArray zk = bk != null ? bk : m.zeros(new ai.djl.ndarray.types.Shape(c.kvDim()));
            NDArray zv = bv != null ? bv : m.zeros(new ai.djl.ndarray.types.Shape(c.kvDim()));
            qkvBias = zq.concat(zk, 0).concat(zv, 0);
        }
        NDArray gateUp = gate.concat(up, 0).mul(postNormGain.reshape(1, -1));
        NDArray gateUpBias = null;
        if (bGate != null || bUp != null) {
            NDArray zg = bGate != null ? bGate : m.zeros(new ai.djl.ndarray.types.Shape(c.intermediateSize));
            NDArray zu = bUp != null ? bUp : m.zeros(new ai.djl.ndarray.types.Shape(c.intermediateSize));
            gateUpBias = zg.concat(zu, 0);
        }
        return new DecoderLayer(c, inputNormGain != null, norm, rotateHalf, qkv, qkvBias, o, bo, gateUp, gateUpBias,
                down, bDown);
    }

    /**
     * Runs the layer on {@code x [B, T, H]} (updated in place: the residual stream) and appends the
     * new tokens' keys and values to the batch's caches in {@code pool}.
     */
    void forward(NDArray x, AttentionBatch ab, KvCachePool pool, int layer) {
        long b = ab.batch;
        long t = ab.steps;
        NDArray normed = inputNorm ? norm.normalize(x) : x;
        NDArray qkv = Ops.reshape(Ops.linear(normed, wQkv, bQkv), b, t, numHeads + 2L * kvHeads, headDim);

        // Rotary embedding on q and k (v passes through: cos 1, sin 0): x * cos + rotate_half(x) * sin.
        NDArray rotated = Ops.add(Ops.mul(qkv, ab.cos), Ops.mul(Ops.matmul(qkv, rotateHalf), ab.sin));
        ai.djl.ndarray.NDList parts = Ops.split(rotated, 2, numHeads, 2L * kvHeads);
        NDArray newKv = Ops.reshape(parts.get(1), b * t, 2L * kvHeads, headDim);
        Ops.indexPut(pool.layer(layer), ab.write, newKv);

        // Queries grouped by their KV head: [B, kvHeads, group * T, headDim] (row = g * T + t).
        NDArray q = parts.get(0);
        if (t == 1) {
            q = Ops.reshape(q, b, kvHeads, group, headDim);
        } else {
            q = Ops.reshape(Ops.permute(Ops.reshape(q, b, t, kvHeads, group, headDim), 0, 2, 3, 1, 4),
                    b, kvHeads, group * t, headDim);
        }
        NDArray[] kv = ab.read(pool.layer(layer));                      // 2 x [B, kvHeads, Lk, headDim]
        NDArray scores = Ops.matmul(q, Ops.transpose(kv[0], 2, 3));      // [B, kvHeads, group * T, Lk]
        if (ab.masked) {
            Ops.addInPlace(scores, ab.mask);
        }
        NDArray attn = Ops.matmul(Ops.softmax(scores, 3), kv[1]);        // [B, kvHeads, group * T, headDim]
        NDArray merged;
        if (t == 1) {
            merged = Ops.reshape(attn, b, 1, (long) numHeads * headDim);
        } else {
            merged = Ops.reshape(Ops.permute(Ops.reshape(attn, b, kvHeads, group, t, headDim), 0, 3, 1, 2, 4),
                    b, t, (long) numHeads * headDim);
        }
        Ops.addInPlace(x, Ops.linear(merged, wO, bO));

        NDArray gateUp = Ops.linear(norm.normalize(x), wGateUp, bGateUp);   // [B, T, 2I]
        ai.djl.ndarray.NDList gu = Ops.split(gateUp, 2, intermediate, intermediate);
        NDArray gate = gu.get(0);
        NDArray hidden = Ops.mul(Ops.mul(gate, Ops.sigmoid(gate)), gu.get(1));   // SwiGLU: silu(gate) * up
        Ops.addInPlace(x, Ops.linear(hidden, wDown, bDown));
    }

    /**
     * This layer's weights in the compiled forward's order: q|k|v, its bias if any, o, its bias if
     * any, gate|up, its bias if any, down, its bias if any ({@code ForwardSource.Shape#layerWeights}).
     */
    java.util.List<NDArray> compiledWeights() {
        java.util.List<NDArray> w = new java.util.ArrayList<>();
        for (NDArray a : new NDArray[] {wQkv, bQkv, wO, bO, wGateUp, bGateUp, wDown, bDown}) {
            if (a != null) {
                w.add(a);
            }
        }
        return w;
    }

    boolean hasQkvBias() {
        return bQkv != null;
    }

    boolean hasOutputBias() {
        return bO != null;
    }

    boolean hasMlpBias() {
        if ((bGateUp == null) != (bDown == null)) {
            throw new IllegalStateException("the compiled forward needs gate|up and down biases together");
        }
        return bGateUp != null;
    }

    /** Moves this layer's weights to a long-lived manager (they are built in a temporary one). */
    void attachTo(NDManager m) {
        for (NDArray a : new NDArray[] {wQkv, bQkv, wO, bO, wGateUp, bGateUp, wDown, bDown}) {
            if (a != null) {
                a.attach(m);
            }
        }
    }

    public int intermediateSize() {
        return (int) intermediate;
    }
}

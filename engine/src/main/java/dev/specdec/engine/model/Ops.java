package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The tensor operations of the inference hot path, called straight through DJL's PyTorch JNI layer.
 * The generic NDArray API validates shapes and builds index objects on every call; at a few hundred
 * calls per decoded token of a small model that bookkeeping costs as much as the arithmetic, so the
 * forward pass uses these thin wrappers instead, each counted (and timed, when asked) by
 * {@link NativeCalls}. Results attach to the first operand's manager.
 */
public final class Ops {
    private Ops() {
    }

    private static PtNDArray pt(NDArray a) {
        return (PtNDArray) a;
    }

    /** {@code x @ w^T + b} (PyTorch {@code linear}); {@code b} may be null. */
    public static NDArray linear(NDArray x, NDArray w, NDArray b) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.linear(pt(x), pt(w), b == null ? null : pt(b)));
    }

    public static NDArray matmul(NDArray a, NDArray b) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.matmul(pt(a), pt(b)));
    }

    public static NDArray reshape(NDArray a, long... shape) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.reshape(pt(a), shape));
    }

    public static NDArray permute(NDArray a, long... dims) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.permute(pt(a), dims));
    }

    public static NDArray transpose(NDArray a, long d0, long d1) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.transpose(pt(a), d0, d1));
    }

    /** View of {@code a} restricted to {@code [start, end)} along {@code dim}. */
    public static NDArray slice(NDArray a, long dim, long start, long end) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.slice(pt(a), dim, start, end, 1));
    }

    public static NDArray add(NDArray a, NDArray b) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.add(pt(a), pt(b)));
    }

    public static NDArray mul(NDArray a, NDArray b) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.mul(pt(a), pt(b)));
    }

    /** {@code a += b} in place. */
    public static void addInPlace(NDArray a, NDArray b) {
        long t = NativeCalls.enter();
        JniUtils.addi(pt(a), pt(b));
        NativeCalls.leave(t);
    }

    /** {@code a *= b} in place. */
    public static void mulInPlace(NDArray a, NDArray b) {
        long t = NativeCalls.enter();
        JniUtils.muli(pt(a), pt(b));
        NativeCalls.leave(t);
    }

    public static NDArray softmax(NDArray a, long dim) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.softmax(pt(a), dim, DataType.FLOAT32));
    }

    public static NDArray sigmoid(NDArray a) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.sigmoid(pt(a)));
    }

    public static NDArray embedding(NDArray ids, NDArray table) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.embedding(pt(ids), pt(table), false));
    }

    public static NDArray square(NDArray a) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.square(pt(a)));
    }

    public static NDArray meanLastAxis(NDArray a) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.mean(pt(a), -1, true));
    }

    public static NDArray sqrt(NDArray a) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.sqrt(pt(a)));
    }

    public static NDArray div(NDArray a, NDArray b) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.div(pt(a), pt(b)));
    }

    /** {@code target[index] = value} in place (advanced indexing), as PyTorch {@code index_put_}. */
    public static void indexPut(NDArray target, ai.djl.ndarray.index.NDIndex index, NDArray value) {
        long t = NativeCalls.enter();
        JniUtils.indexAdvPut(pt(target), index, pt(value));
        NativeCalls.leave(t);
    }

    /** {@code a[index]} with advanced (tensor) indices: a copy. */
    public static NDArray indexGet(NDArray a, ai.djl.ndarray.index.NDIndex index) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.indexAdv(pt(a), index, (ai.djl.pytorch.engine.PtNDManager) a.getManager()));
    }

    public static NDArray argmaxLastAxis(NDArray a) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.argMax(pt(a), -1, false));
    }

    /** Splits {@code a} along {@code dim} into parts of the given sizes (views), in one call. */
    public static ai.djl.ndarray.NDList split(NDArray a, long dim, long... sizes) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.split(pt(a), sizes, dim));
    }

    /** View of {@code a} restricted to {@code [min[d], max[d])} along every dimension d, in one call. */
    public static NDArray sliceAll(NDArray a, long[] min, long[] max) {
        long[] step = new long[min.length];
        java.util.Arrays.fill(step, 1);
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.index(pt(a), min, max, step, (ai.djl.pytorch.engine.PtNDManager) a.getManager()));
    }

    public static NDArray neg(NDArray a) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.neg(pt(a)));
    }

    /** PyTorch {@code layer_norm} over the last dimension with unit gain and zero bias. */
    public static NDArray layerNorm(NDArray a, NDArray ones, NDArray zeros, double eps) {
        long last = a.getShape().get(a.getShape().dimension() - 1);
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.layerNorm(pt(a), new ai.djl.ndarray.types.Shape(last), pt(ones), pt(zeros), eps));
    }

    public static NDArray broadcast(NDArray a, long... shape) {
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.broadcast(pt(a), new ai.djl.ndarray.types.Shape(shape)));
    }

    public static NDArray cat(long dim, NDArray... parts) {
        PtNDArray[] p = new PtNDArray[parts.length];
        for (int i = 0; i < parts.length; i++) {
            p[i] = pt(parts[i]);
        }
        long t = NativeCalls.enter();
        return NativeCalls.leave(t, JniUtils.cat(p, dim));
    }
}

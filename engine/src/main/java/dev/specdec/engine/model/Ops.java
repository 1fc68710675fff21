package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The tensor operations of the inference hot path, called straight through DJL's PyTorch JNI layer.
 * The generic NDArray API validates shapes and builds index objects on every call; at a few hundred
 * calls per decoded token of a small model that bookkeeping costs as much as the arithmetic, so the
 * forward pass uses these thin wrappers instead. Results attach to the first operand's manager.
 */
public final class Ops {
    private Ops() {
    }

    private static PtNDArray pt(NDArray a) {
        return (PtNDArray) a;
    }

    /** {@code x @ w^T + b} (PyTorch {@code linear}); {@code b} may be null. */
    public static NDArray linear(NDArray x, NDArray w, NDArray b) {
        return JniUtils.linear(pt(x), pt(w), b == null ? null : pt(b));
    }

    public static NDArray matmul(NDArray a, NDArray b) {
        return JniUtils.matmul(pt(a), pt(b));
    }

    public static NDArray reshape(NDArray a, long... shape) {
        return JniUtils.reshape(pt(a), shape);
    }

    public static NDArray permute(NDArray a, long... dims) {
        return JniUtils.permute(pt(a), dims);
    }

    public static NDArray transpose(NDArray a, long d0, long d1) {
        return JniUtils.transpose(pt(a), d0, d1);
    }

    /** View of {@code a} restricted to {@code [start, end)} along {@code dim}. */
    public static NDArray slice(NDArray a, long dim, long start, long end) {
        return JniUtils.slice(pt(a), dim, start, end, 1);
    }

    public static NDArray add(NDArray a, NDArray b) {
        return JniUtils.add(pt(a), pt(b));
    }

    public static NDArray mul(NDArray a, NDArray b) {
        return JniUtils.mul(pt(a), pt(b));
    }

    /** {@code a += b} in place. */
    public static void addInPlace(NDArray a, NDArray b) {
        JniUtils.addi(pt(a), pt(b));
    }

    /** {@code a *= b} in place. */
    public static void mulInPlace(NDArray a, NDArray b) {
        JniUtils.muli(pt(a), pt(b));
    }

    public static NDArray softmax(NDArray a, long dim) {
        return JniUtils.softmax(pt(a), dim, DataType.FLOAT32);
    }

    public static NDArray sigmoid(NDArray a) {
        return JniUtils.sigmoid(pt(a));
    }

    public static NDArray embedding(NDArray ids, NDArray table) {
        return JniUtils.embedding(pt(ids), pt(table), false);
    }

    public static NDArray cat(long dim, NDArray... parts) {
        PtNDArray[] p = new PtNDArray[parts.length];
        for (int i = 0; i < parts.length; i++) {
            p[i] = pt(parts[i]);
        }
        return JniUtils.cat(p, dim);
    }
}

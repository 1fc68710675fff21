package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;

import java.util.ArrayList;
import java.util.List;

/**
 * One call of a compiled module: the arguments built from host arrays (each a tensor and its
 * {@link IValue}), the call itself, the results taken back as tensors, and everything freed on
 * {@link #close}. Counts its native calls in {@link NativeCalls} and times the module call.
 */
final class CompiledCall implements AutoCloseable {
    /** The profiling graph executor costs time on the first calls and gains nothing here; it is set per thread. */
    private static final ThreadLocal<Boolean> EXECUTOR_SET = ThreadLocal.withInitial(() -> false);

    private final NDManager out;
    private final List<NDArray> arrays = new ArrayList<>();
    private final List<IValue> values = new ArrayList<>();

    CompiledCall(NDManager out) {
        this.out = out;
        if (!EXECUTOR_SET.get()) {
            JniUtils.setGraphExecutorOptimize(false);
            EXECUTOR_SET.set(true);
        }
    }

    IValue tensor(NDArray a) {
        NativeCalls.count(2);    // the IValue and, later, its release
        IValue v = IValue.from((PtNDArray) a);
        values.add(v);
        return v;
    }

    IValue longs(long[] data, Shape shape) {
        NativeCalls.count(2);
        NDArray a = out.create(data, shape);
        arrays.add(a);
        return tensor(a);
    }

    IValue longs(long[] data) {
        return longs(data, new Shape(data.length));
    }

    IValue floats(float[] data, Shape shape) {
        NativeCalls.count(2);
        NDArray a = out.create(data, shape);
        arrays.add(a);
        return tensor(a);
    }

    IValue scalar(long v) {
        return keep(IValue.from(v));
    }

    IValue scalar(double v) {
        return keep(IValue.from(v));
    }

    /** A {@code List[float]} argument. */
    IValue doubles(double[] v) {
        return keep(IValue.listFrom(v));
    }

    IValue flag(boolean v) {
        return keep(IValue.from(v));
    }

    private IValue keep(IValue v) {
        NativeCalls.count(2);
        values.add(v);
        return v;
    }

    /** Runs the module; returns the elements of the tuple it returns. */
    IValue[] run(PtSymbolBlock module, IValue... args) {
        long t = NativeCalls.enter();
        IValue result = NativeCalls.leave(t, module.forward(args));
        keep(result);
        IValue[] parts = result.toIValueTuple();
        for (IValue p : parts) {
            keep(p);
        }
        return parts;
    }

    /** A result as a tensor owned by the call's output manager (it outlives the call). */
    NDArray result(IValue v) {
        NativeCalls.count(1);
        return v.toTensor((PtNDManager) out);
    }

    @Override
    public void close() {
        values.forEach(IValue::close);
        arrays.forEach(NDArray::close);
    }
}

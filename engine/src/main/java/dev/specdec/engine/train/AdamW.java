package dev.specdec.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.specdec.engine.io.CheckpointReader;
import dev.specdec.engine.io.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * AdamW (decoupled weight decay, as {@code torch.optim.AdamW}) over named parameters, with gradient
 * clipping by global norm or by value, and moment state that saves and loads for exact resume.
 * Updates run outside any gradient collector (autograd off), in place.
 */
public final class AdamW {
    private final Map<String, NDArray> params;
    private final Map<String, NDArray> m1 = new LinkedHashMap<>();
    private final Map<String, NDArray> m2 = new LinkedHashMap<>();
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Set<String> noDecay;
    private long step;

    public AdamW(NDManager manager, Map<String, NDArray> params, double beta1, double beta2, double eps,
                 double weightDecay, Set<String> noDecay) {
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.noDecay = noDecay;
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            m1.put(e.getKey(), manager.zeros(e.getValue().getShape()));
            m2.put(e.getKey(), manager.zeros(e.getValue().getShape()));
        }
    }

    public long step() {
        return step;
    }

    /** Scales all gradients so their global L2 norm is at most {@code maxNorm}; returns the norm before. */
    public double clipGradNorm(double maxNorm) {
        double sq = 0;
        for (NDArray p : params.values()) {
            // Every intermediate is closed here: they belong to the parameters' long-lived manager, and
            // one left open costs a gradient-sized buffer per step for the rest of the run.
            try (NDArray g = p.getGradient(); NDArray squared = g.square(); NDArray s = squared.sum()) {
                sq += s.getFloat();
            }
        }
        double norm = Math.sqrt(sq);
        if (maxNorm > 0 && norm > maxNorm) {
            float f = (float) (maxNorm / (norm + 1e-6));
            for (NDArray p : params.values()) {
                try (NDArray g = p.getGradient()) {
                    g.muli(f);
                }
            }
        }
        return norm;
    }

    /** Clamps every gradient element to [-v, v] (the CTC-drafter reference clips by value 0.5). */
    public void clipGradValue(double v) {
        // clip(Number, Number) leaves its two bound tensors open; bounds as tensors are closed here.
        NDManager manager = params.values().iterator().next().getManager();
        try (NDArray hi = manager.full(new Shape(), (float) v); NDArray lo = manager.full(new Shape(), (float) -v)) {
            for (NDArray p : params.values()) {
                try (NDArray g = p.getGradient(); NDArray below = g.minimum(hi); NDArray c = below.maximum(lo)) {
                    g.subi(g).addi(c);
                }
            }
        }
    }

    /** One update with learning rate {@code lr}, then zeroes the gradients. */
    public void update(double lr) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            String name = e.getKey();
            NDArray p = e.getValue();
            NDArray m = m1.get(name);
            NDArray v = m2.get(name);
            try (NDArray g = p.getGradient()) {
                if (weightDecay > 0 && !noDecay.contains(name)) {
                    p.muli(1 - lr * weightDecay);
                }
                m.muli(beta1);
                try (NDArray t = g.mul(1 - beta1)) {
                    m.addi(t);
                }
                v.muli(beta2);
                try (NDArray t = g.square()) {
                    t.muli(1 - beta2);
                    v.addi(t);
                }
                try (NDArray denom = v.sqrt()) {
                    denom.muli(1.0 / Math.sqrt(bc2)).addi(eps);
                    try (NDArray upd = m.div(denom)) {
                        upd.muli(lr / bc1);
                        p.subi(upd);
                    }
                }
                JniUtils.zeroGrad((PtNDArray) p);
            }
        }
    }

    /** Drops accumulated gradients without updating (e.g. after a non-finite loss). */
    public void zeroGrad() {
        for (NDArray p : params.values()) {
            JniUtils.zeroGrad((PtNDArray) p);
        }
    }

    public void save(Path file) throws IOException {
        Map<String, NDArray> all = new LinkedHashMap<>();
        m1.forEach((k, v) -> all.put("m1." + k, v));
        m2.forEach((k, v) -> all.put("m2." + k, v));
        SafetensorsWriter.write(file, all, Map.of("step", Long.toString(step)));
    }

    public void load(Path dir, String stem, long savedStep, NDManager tmp) throws IOException {
        try (CheckpointReader r = CheckpointReader.open(dir, stem)) {
            for (String name : params.keySet()) {
                long[] shape = params.get(name).getShape().getShape();
                try (NDArray a = r.read(tmp, "m1." + name, shape); NDArray b = r.read(tmp, "m2." + name, shape)) {
                    m1.get(name).subi(m1.get(name)).addi(a);
                    m2.get(name).subi(m2.get(name)).addi(b);
                }
            }
        }
        this.step = savedStep;
    }
}

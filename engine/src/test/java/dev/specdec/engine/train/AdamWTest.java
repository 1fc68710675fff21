package dev.specdec.engine.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** AdamW against the torch.optim.AdamW formulas, and no native memory left behind per step. */
class AdamWTest {

    /** loss = sum(w * x) gives grad(w) = x, so every update can be worked out by hand. */
    private static void backward(NDManager m, NDArray w, float[] x) {
        // Results of w.mul(...) attach to w's manager: the scope closes them, as in the trainers.
        try (NDManager s = m.newSubManager(); NDScope scope = new NDScope();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            scope.suppressNotUsedWarning();
            NDArray loss = w.mul(s.create(x)).sum();
            gc.backward(loss);
        }
    }

    @Test
    void updatesMatchTheTorchFormulas() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(new float[] {1f, -2f, 0.5f});
            w.setRequiresGradient(true);
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("w", w);
            double lr = 0.1;
            double wd = 0.01;
            AdamW opt = new AdamW(m, params, 0.9, 0.95, 1e-8, wd, Set.of());
            float[] x = {3f, -4f, 0f};
            double[] p = {1, -2, 0.5};
            double[] m1 = new double[3];
            double[] m2 = new double[3];
            for (int step = 1; step <= 3; step++) {
                backward(m, w, x);
                double norm = opt.clipGradNorm(2.5);
                assertEquals(5.0, norm, 1e-5, "norm before clipping");
                opt.update(lr);
                double scale = 2.5 / (5.0 + 1e-6);
                for (int i = 0; i < 3; i++) {
                    double g = x[i] * scale;
                    p[i] *= 1 - lr * wd;
                    m1[i] = 0.9 * m1[i] + 0.1 * g;
                    m2[i] = 0.95 * m2[i] + 0.05 * g * g;
                    double mHat = m1[i] / (1 - Math.pow(0.9, step));
                    double vHat = m2[i] / (1 - Math.pow(0.95, step));
                    p[i] -= lr * mHat / (Math.sqrt(vHat) + 1e-8);
                }
                float[] got = w.toFloatArray();
                for (int i = 0; i < 3; i++) {
                    assertEquals(p[i], got[i], 1e-5, "step " + step + " element " + i);
                }
            }
        }
    }

    @Test
    void stepsLeaveNoArraysBehind() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.randomNormal(new Shape(4096));
            w.setRequiresGradient(true);
            AdamW opt = new AdamW(m, Map.of("w", w), 0.9, 0.95, 1e-8, 0.1, Set.of());
            float[] x = new float[4096];
            java.util.Arrays.fill(x, 1f);
            int live = -1;
            for (int step = 0; step < 4; step++) {
                backward(m, w, x);
                opt.clipGradNorm(0.5);
                opt.clipGradValue(0.01);
                opt.update(1e-3);
                int now = m.getManagedArrays().size();
                if (live >= 0) {
                    assertEquals(live, now, "native arrays still open after step " + step);
                }
                live = now;
            }
        }
    }
}

package dev.specdec.engine.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.engine.Fixtures;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Our CTC loss against torch.nn.functional.ctc_loss: values and gradients w.r.t. the logits. */
class CtcLossTest {

    @Test
    void lossAndGradientMatchTorch() throws Exception {
        JsonNode cases = Fixtures.json(Fixtures.dir().resolve("ctc").resolve("ctc_golden.json")).get("cases");
        int checked = 0;
        for (JsonNode c : cases) {
            int t = c.get("T").asInt();
            int classes = c.get("C").asInt();
            int[] target = Fixtures.ints(c.get("target"));
            float[] logits = new float[t * classes];
            for (int i = 0; i < t; i++) {
                System.arraycopy(Fixtures.floats(c.get("logits").get(i)), 0, logits, i * classes, classes);
            }
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray x = m.create(logits, new Shape(1, t, classes));
                x.setRequiresGradient(true);
                float nll;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = CtcLoss.nll(x, new int[][] {target}, c.get("blank").asInt());
                    nll = loss.getFloat(0);
                    System.gc();   // a collection between forward and backward must not corrupt the graph
                    if (nll < CtcLoss.IMPOSSIBLE) {
                        gc.backward(loss.sum());
                    } else {
                        gc.backward(loss.mul(m.zeros(new Shape(1))).sum());   // masked out, as in training
                    }
                }
                float[] grad = x.getGradient().toFloatArray();
                if (c.get("nll").isTextual()) {
                    assertEquals("inf", c.get("nll").asText());
                    assertTrue(nll >= CtcLoss.IMPOSSIBLE, "impossible alignment must be reported as infinite, got " + nll);
                    for (float gv : grad) {
                        assertFalse(Float.isNaN(gv), "NaN gradient for an impossible alignment");
                    }
                    continue;
                }
                assertEquals(c.get("nll").asDouble(), nll, 1e-4 * Math.max(1, Math.abs(nll)), "nll for target "
                        + java.util.Arrays.toString(target));
                for (int i = 0; i < t; i++) {
                    float[] ref = Fixtures.floats(c.get("grad_logits").get(i));
                    for (int k = 0; k < classes; k++) {
                        assertEquals(ref[k], grad[i * classes + k], 1e-4, "grad[" + i + "][" + k + "]");
                    }
                }
                checked++;
            }
        }
        assertEquals(6, checked);
    }
}

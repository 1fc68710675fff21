package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.engine.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The forward pass against HuggingFace transformers' outputs for the golden checkpoints, on the
 * eager and on the compiled forward.
 */
class GoldenModelTest {
    static LlamaModel load(Path dir, String forward) throws Exception {
        LlamaModel model = LlamaModel.load(dir, null);
        if (forward.equals("compiled")) {
            model.compile();
        }
        return model;
    }

    @ParameterizedTest
    @CsvSource(delimiter = ',', value = {"llama2-tiny,eager", "llama2-tiny,compiled", "llama3-tiny-gqa-bf16,eager",
        "llama3-tiny-gqa-bf16,compiled"})
    void logitsAndHiddenMatchReference(String name, String forward) throws Exception {
        Path dir = Fixtures.model(name);
        JsonNode g = Fixtures.json(dir.resolve("golden.json"));
        int[] ids = Fixtures.ints(g.get("input_ids"));
        try (LlamaModel model = load(dir, forward);
             KvCachePool pool = model.newCachePool(1, 64);
             KvCache cache = pool.allocate();
             ForwardOutput out = model.forward(List.of(SequenceInput.causal(cache, ids)), ForwardOutput.LogitsMode.ALL)) {
            float[] logits = out.logits.toFloatArray();
            float[] hidden = out.hidden.toFloatArray();
            int v = model.config.vocabSize;
            int h = model.config.hiddenSize;
            double maxLogitErr = 0;
            double maxHiddenErr = 0;
            for (int t = 0; t < ids.length; t++) {
                float[] refL = Fixtures.floats(g.get("logits").get(t));
                float[] refH = Fixtures.floats(g.get("final_hidden").get(t));
                for (int i = 0; i < v; i++) {
                    maxLogitErr = Math.max(maxLogitErr, Math.abs(refL[i] - logits[t * v + i]));
                }
                for (int i = 0; i < h; i++) {
                    maxHiddenErr = Math.max(maxHiddenErr, Math.abs(refH[i] - hidden[t * h + i]));
                }
            }
            assertTrue(maxLogitErr < 1e-3, "max logit error " + maxLogitErr);
            assertTrue(maxHiddenErr < 1e-3, "max hidden error " + maxHiddenErr);
            assertEquals(ids.length, cache.length());
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = ',', value = {"llama2-tiny,eager", "llama2-tiny,compiled", "llama3-tiny-gqa-bf16,eager",
        "llama3-tiny-gqa-bf16,compiled"})
    void greedyWithCacheMatchesReference(String name, String forward) throws Exception {
        Path dir = Fixtures.model(name);
        JsonNode g = Fixtures.json(dir.resolve("golden.json"));
        int[] ids = Fixtures.ints(g.get("input_ids"));
        int[] expected = Fixtures.ints(g.get("greedy_new_ids"));
        try (LlamaModel model = load(dir, forward);
             KvCachePool pool = model.newCachePool(1, 16);
             KvCache cache = pool.allocate()) {
            int[] got = new int[expected.length];
            int[] next = ids;
            for (int i = 0; i < got.length; i++) {
                try (ForwardOutput out = model.forward(List.of(SequenceInput.causal(cache, next)), ForwardOutput.LogitsMode.LAST)) {
                    NDArray am = out.logits.argMax(1);
                    got[i] = (int) am.toLongArray()[0];
                    next = new int[] {got[i]};
                }
            }
            assertArrayEquals(expected, got);
        }
    }
}

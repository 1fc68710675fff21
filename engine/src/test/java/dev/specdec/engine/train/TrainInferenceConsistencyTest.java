package dev.specdec.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.model.ForwardOutput;
import dev.specdec.engine.model.KvCache;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.ModelConfig;
import dev.specdec.engine.model.SequenceInput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training forward pass and the inference engine agree on a model the trainer saved. */
class TrainInferenceConsistencyTest {

    @Test
    void savedModelLoadsAndMatchesTrainingForward(@TempDir Path dir) throws Exception {
        ObjectNode json = ModelConfig.llamaConfigJson(32, 48, 2, 4, 2, 50, 64, 10000, false, 1, 2);
        ModelConfig config = ModelConfig.parse(json, null);
        int[] ids = {1, 5, 9, 13, 7, 22, 31, 4, 17, 49};
        float[] trainLogits;
        try (NDManager m = NDManager.newBaseManager(); TrainGraph g = new TrainGraph(m, config, 16)) {
            TrainableLlama model = TrainableLlama.initialize(config, m, 7);
            model.save(dir, json);
            NDArray x = m.create(ids, new Shape(1, ids.length)).toType(DataType.INT64, false);
            trainLogits = model.logits(model.hidden(g, x)).toFloatArray();
        }
        try (LlamaModel model = LlamaModel.load(dir, null);
             KvCachePool pool = model.newCachePool(1, 16);
             KvCache cache = pool.allocate();
             ForwardOutput out = model.forward(List.of(SequenceInput.causal(cache, ids)), ForwardOutput.LogitsMode.ALL)) {
            float[] inf = out.logits.toFloatArray();
            double max = 0;
            for (int i = 0; i < inf.length; i++) {
                max = Math.max(max, Math.abs(inf[i] - trainLogits[i]));
            }
            assertTrue(max < 1e-4, "training and inference logits differ by " + max);
        }
    }
}

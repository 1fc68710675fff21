package dev.specdec.engine.offline;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.model.ModelConfig;
import dev.specdec.engine.tokenizer.BpeTrainer;
import dev.specdec.engine.train.TrainableLlama;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No process of ours may open a connection to anything but loopback: starting DJL, loading a model
 * and a tokenizer and running the model, with the environment our launcher sets, must not try.
 */
class OfflineTest {

    @Test
    void engineNeverTouchesTheNetwork(@TempDir Path dir) throws Exception {
        ObjectNode json = ModelConfig.llamaConfigJson(16, 32, 1, 2, 2, 300, 64, 10000, false, 1, 2);
        try (NDManager m = NDManager.newBaseManager()) {
            TrainableLlama.initialize(ModelConfig.parse(json, null), m, 3).save(dir, json);
        }
        BpeTrainer.write(BpeTrainer.train(List.of("hello world, hello there", "the world is wide"), 300),
                dir.resolve("tokenizer.json"));
        ProcessBuilder pb = new ProcessBuilder(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "-Djava.security.manager=allow", "-cp", System.getProperty("java.class.path"),
                OfflineProbe.class.getName(), dir.toString());
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().put("OPT_OUT_TRACKING", "true");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("selfcheck=intercepted"), "the probe must catch its own connection:\n" + out);
        assertTrue(out.contains("attempts=0 "), "DJL tried to reach the network:\n" + out);
    }
}

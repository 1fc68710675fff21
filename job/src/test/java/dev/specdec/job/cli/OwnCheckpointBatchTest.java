package dev.specdec.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.testing.OwnCheckpoints;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.job.JobFiles;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A user's own checkpoint through the Flink job: a sharded F16 LLaMA-3.1 and a single-file BF16
 * Qwen2 with biases, each with drafters trained here, decoded by {@code specdec batch} with a
 * trained drafter; every result equals the engine's plain decoding.
 */
class OwnCheckpointBatchTest {

    @ParameterizedTest
    @CsvSource({OwnCheckpoints.LLAMA31_F16_SHARDED + ",ctc,18091", OwnCheckpoints.QWEN2_BF16_BIAS + ",medusa,18092"})
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void batchDecodesWithATrainedDrafterExactly(String form, String drafter, String webPort, @TempDir Path tmp)
            throws Exception {
        Path model = OwnCheckpoints.write(form, tmp.resolve("model"));
        OwnCheckpoints.trainDrafters(model, OwnCheckpoints.corpus(tmp));
        Map<String, String> prompts = new LinkedHashMap<>();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String id = "p" + i;
            prompts.put(id, TinyModel.CORPUS.get(i));
            lines.add("{\"id\": \"" + id + "\", \"prompt\": \"" + TinyModel.CORPUS.get(i) + "\"}");
        }
        Path input = tmp.resolve("prompts.jsonl");
        Files.write(input, lines);
        Path out = tmp.resolve("out");
        assertEquals(0, BatchCommandTest.run("batch", "--model", model.toString(), "--drafter", drafter, "--input",
                input.toString(), "--output", out.toString(), "--max-new-tokens", "12", "--ignore-eos", "--batch-size", "2",
                "--web-port", webPort, "--checkpoint-interval", "500ms", "--quiet"));
        Map<String, int[]> plain = TinyModel.reference(model, prompts, SamplingParams.greedy(12).withIgnoreEos(true));
        List<JsonNode> results = OutputFiles.committedLines(out, "results");
        assertEquals(prompts.size(), results.size(), results.toString());
        for (JsonNode r : results) {
            String id = r.get("request_id").asText();
            assertArrayEquals(plain.get(id), JobFiles.ints(r.get("token_ids")), form + " " + drafter + " " + id);
            assertEquals(drafter, r.get("speculative").get("drafter").asText(), r.toString());
        }
    }
}

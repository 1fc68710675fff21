package dev.specdec.job.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.job.FailOnce;
import dev.specdec.job.JobFiles;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.job.decode.DecodeSettings;
import dev.specdec.records.GenerationResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failures injected into the bounded job: every request still completes exactly once (in the
 * committed output) with the tokens of an uninterrupted run, and the job still ends by itself.
 * Admission (4 requests for 8) keeps the input backpressured, so checkpoints are taken with
 * requests mid-generation. One failure hits during the final drain (the whole input is read, the
 * last admitted requests are still decoding; no checkpoint completes during a drain, so the job
 * restores the last one before it); one hits mid-generation under full-tensor cache checkpoints,
 * so decoding resumes from imported caches.
 */
class FailureRecoveryTest {
    static final int MAX_NEW = 100;
    @TempDir
    static Path tmp;
    static Path model;

    @BeforeAll
    static void makeModel() throws Exception {
        model = TinyModel.create(tmp.resolve("model"));
    }

    private static Map<String, String> prompts(String prefix, int n) {
        Map<String, String> p = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String line = TinyModel.CORPUS.get(i % TinyModel.CORPUS.size());
            p.put(prefix + i, line.substring(0, Math.min(line.length(), 18 + i)));
        }
        return p;
    }

    private static Map<String, JsonNode> run(String name, Map<String, String> prompts, DecodeSettings settings,
                                             FailOnce<GenerationResult> failure) throws Exception {
        Path input = tmp.resolve(name + ".jsonl");
        List<String> lines = new ArrayList<>();
        prompts.forEach((id, text) -> lines.add("{\"id\":\"" + id + "\",\"prompt\":\"" + text + "\"}"));
        Files.write(input, lines);
        Path out = tmp.resolve(name + "-out");
        SamplingParams defaults = new SamplingParams(MAX_NEW, 0, 0, 1, 0, java.util.Set.of(), List.of(), true);
        Configuration conf = JobEnvironment.configuration(Duration.ofMillis(100),
                tmp.resolve(name + "-ckpt").toUri().toString(), 3);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        SpecdecPipeline.Outputs o = SpecdecPipeline.builder().decode(settings).defaults(defaults)
                .fileInput(input.toString()).build(env);
        SpecdecPipeline.sinkResultsToFiles(o.results().map(failure).name("inject-failure"), out.toString());
        env.execute(name);   // ends by itself, after the restart
        assertTrue(FailOnce.failed(name), "the failure was not injected");
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode r : JobFiles.committedLines(out, "results")) {
            JsonNode prev = byId.put(r.get("request_id").asText(), r);
            assertEquals(null, prev, "two committed results for " + r.get("request_id"));
        }
        Map<String, int[]> expected = TinyModel.reference(model, prompts,
                SamplingParams.greedy(MAX_NEW).withIgnoreEos(true));
        assertEquals(prompts.keySet(), byId.keySet());
        for (String id : prompts.keySet()) {
            assertArrayEquals(expected.get(id), JobFiles.ints(byId.get(id).get("token_ids")), "tokens of " + id);
            assertEquals("length", byId.get(id).get("finish_reason").asText());
        }
        return byId;
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void failureDuringTheFinalDrain() throws Exception {
        // The 8th request is admitted once the 4th result is out, so the input ends then; the failure
        // hits at the 7th result, while the operator drains the last admitted requests in endInput().
        DecodeSettings settings = DecodeSettings.builder().model(model.toString()).maxBatch(2).queueFactor(2).build();
        Map<String, JsonNode> results = run("drain", prompts("d", 8), settings, new FailOnce<>("drain", 1, 7));
        long resumed = results.values().stream().filter(r -> r.get("recoveries").asInt() > 0).count();
        assertTrue(resumed > 0, "no request resumed from a checkpoint");
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void failureMidGenerationWithFullTensorCheckpoints() throws Exception {
        // Admission of 4 (batch 2) for 8 requests keeps the input backpressured while decoding; the
        // failure comes after two checkpoints and the first result, with requests mid-generation.
        DecodeSettings settings = DecodeSettings.builder().model(model.toString()).maxBatch(2).queueFactor(2)
                .cacheCheckpoint(DecodeSettings.CacheCheckpoint.FULL_TENSOR).build();
        Map<String, JsonNode> results = run("full", prompts("m", 8), settings, new FailOnce<>("full", 2, 1));
        long resumed = results.values().stream().filter(r -> r.get("recoveries").asInt() > 0).count();
        assertTrue(resumed > 0, "no request resumed mid-generation from a checkpoint");
    }
}

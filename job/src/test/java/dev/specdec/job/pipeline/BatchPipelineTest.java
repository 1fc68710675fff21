package dev.specdec.job.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.job.JobFiles;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.job.decode.DecodeSettings;
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
 * The bounded job on a real Flink MiniCluster: a prompt file with valid requests, invalid ones and
 * poison lines goes in; the job ends by itself; every valid request has exactly one result equal to
 * the engine's plain greedy output, every invalid one an error result, and every unreadable line a
 * dead letter with its file and line.
 */
class BatchPipelineTest {
    static final int MAX_NEW = 24;
    @TempDir
    static Path tmp;
    static Path model;

    static final Map<String, String> PROMPTS = new LinkedHashMap<>();

    static {
        PROMPTS.put("p1", "In the beginning God created");
        PROMPTS.put("p2", "And the earth was without form");
        PROMPTS.put("p3", "The quick brown fox");
        PROMPTS.put("p4", "And God said");
        PROMPTS.put("p5", "Streams of requests arrive");
        PROMPTS.put("p6", "darkness was upon the face of the deep");
        PROMPTS.put("p7", "And the evening and the morning");
    }

    @BeforeAll
    static void makeModel() throws Exception {
        model = TinyModel.create(tmp.resolve("model"));
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void everyRequestGetsExactlyOneCorrectResultAndTheJobEnds() throws Exception {
        Path input = tmp.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        PROMPTS.forEach((id, p) -> lines.add("{\"id\":\"" + id + "\",\"prompt\":\"" + p + "\"}"));
        lines.add(3, "this line is not JSON");
        lines.add("{\"id\":\"no-prompt\",\"category\":\"x\"}");
        lines.add("{\"id\":\"negative\",\"prompt\":\"hello\",\"max_new_tokens\":-3}");
        lines.add("{\"id\":\"too-hot\",\"prompt\":\"hello\",\"temperature\":500}");
        lines.add("{\"id\":\"too-long\",\"prompt\":\"" + "and the light ".repeat(120) + "\"}");
        lines.add("{\"id\":\"bad-type\",\"prompt\":\"hello\",\"max_new_tokens\":\"many\"}");
        lines.add("");
        lines.add("[1, 2, 3]");
        Files.write(input, lines);
        Path out = tmp.resolve("out");

        DecodeSettings settings = DecodeSettings.builder().model(model.toString()).defaultDrafter("ctc")
                .maxBatch(3).queueFactor(2).build();
        SamplingParams defaults = new SamplingParams(MAX_NEW, 0, 0, 1, 0, java.util.Set.of(), List.of(), false);
        Configuration conf = JobEnvironment.configuration(Duration.ofMillis(300), tmp.resolve("ckpt").toUri().toString(), 0);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        SpecdecPipeline.Outputs outputs = SpecdecPipeline.builder().decode(settings).defaults(defaults)
                .fileInput(input.toString()).build(env);
        SpecdecPipeline.sinkResultsToFiles(outputs.results(), out.toString());
        SpecdecPipeline.sinkDeadLettersToFiles(outputs.deadLetters(), out.resolve("dead-letters").toString());
        env.execute("batch-test");   // returns only when the bounded job has finished by itself

        Map<String, int[]> expected = TinyModel.reference(model, PROMPTS, SamplingParams.greedy(MAX_NEW));
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode r : JobFiles.committedLines(out, "results")) {
            JsonNode previous = byId.put(r.get("request_id").asText(), r);
            assertEquals(null, previous, "two results for " + r.get("request_id"));
        }
        for (String id : PROMPTS.keySet()) {
            JsonNode r = byId.get(id);
            assertTrue(r != null, "no result for " + id);
            assertArrayEquals(expected.get(id), JobFiles.ints(r.get("token_ids")), "tokens of " + id);
            assertEquals(expected.get(id).length, r.get("usage").get("completion_tokens").asInt());
            assertTrue(r.get("error").isNull(), r.toString());
            assertEquals("ctc", r.get("speculative").get("drafter").asText());
        }
        assertError(byId, "no-prompt", "missing prompt");
        assertError(byId, "negative", "max_new_tokens");
        assertError(byId, "too-hot", "temperature");
        assertError(byId, "too-long", "does not fit the context");
        assertError(byId, "bad-type", "max_new_tokens must be an integer");
        assertEquals(PROMPTS.size() + 5, byId.size(), byId.keySet().toString());

        List<JsonNode> dead = JobFiles.committedLines(out.resolve("dead-letters"), "dead-letters");
        assertEquals(3, dead.size(), dead.toString());
        JsonNode notJson = dead.stream().filter(d -> d.get("line").asLong() == 4).findFirst().orElseThrow();
        assertEquals("file", notJson.get("source").asText());
        assertTrue(notJson.get("file").asText().endsWith("prompts.jsonl"));
        assertTrue(notJson.get("reason").asText().contains("not valid JSON"), notJson.toString());
        assertEquals("this line is not JSON", notJson.get("payload").asText());
        assertTrue(dead.stream().anyMatch(d -> "bad-type".equals(d.get("request_id").asText())));
        assertTrue(dead.stream().anyMatch(d -> d.get("reason").asText().contains("expected a JSON object")));
    }

    /** Runs the bounded job over {@code input} into {@code out}; returns when it has ended by itself. */
    static void runJob(Path input, Path out, int batch, int queueFactor) throws Exception {
        DecodeSettings settings = DecodeSettings.builder().model(model.toString()).maxBatch(batch).queueFactor(queueFactor)
                .build();
        SamplingParams defaults = new SamplingParams(MAX_NEW, 0, 0, 1, 0, java.util.Set.of(), List.of(), false);
        Configuration conf = JobEnvironment.configuration(Duration.ofMillis(300), tmp.resolve("ckpt-" + out.getFileName())
                .toUri().toString(), 0);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        SpecdecPipeline.Outputs outputs = SpecdecPipeline.builder().decode(settings).defaults(defaults)
                .fileInput(input.toString()).build(env);
        SpecdecPipeline.sinkResultsToFiles(outputs.results(), out.toString());
        SpecdecPipeline.sinkDeadLettersToFiles(outputs.deadLetters(), out.resolve("dead-letters").toString());
        env.execute("batch-test");
    }

    static Map<String, JsonNode> resultsById(Path out) throws Exception {
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode r : JobFiles.committedLines(out, "results")) {
            JsonNode previous = byId.put(r.get("request_id").asText(), r);
            assertEquals(null, previous, "two results for " + r.get("request_id"));
        }
        return byId;
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void cancellationDeadlineAndDuplicateIds() throws Exception {
        Path input = tmp.resolve("control.jsonl");
        Files.write(input, List.of(
                "{\"id\":\"long\",\"prompt\":\"And God said\",\"max_new_tokens\":150,\"ignore_eos\":true}",
                "{\"id\":\"long\",\"action\":\"cancel\"}",
                "{\"id\":\"dup\",\"prompt\":\"The quick brown fox\",\"max_new_tokens\":40,\"ignore_eos\":true}",
                "{\"id\":\"dup\",\"prompt\":\"again\"}",
                "{\"id\":\"late\",\"prompt\":\"darkness\",\"max_new_tokens\":150,\"ignore_eos\":true,\"timeout_ms\":1}",
                "{\"id\":\"ghost\",\"action\":\"cancel\"}"));
        Path out = tmp.resolve("control-out");
        runJob(input, out, 2, 4);
        Map<String, JsonNode> byId = resultsById(out);
        assertEquals(java.util.Set.of("long", "dup", "late"), byId.keySet());
        assertEquals("cancelled", byId.get("long").get("finish_reason").asText());
        assertEquals("cancelled by the client", byId.get("long").get("error").asText());
        assertTrue(byId.get("long").get("token_ids").size() < 150);
        assertEquals("cancelled", byId.get("late").get("finish_reason").asText());
        assertEquals("deadline exceeded", byId.get("late").get("error").asText());
        Map<String, int[]> expected = TinyModel.reference(model, Map.of("dup", "The quick brown fox"),
                SamplingParams.greedy(40).withIgnoreEos(true));
        assertArrayEquals(expected.get("dup"), JobFiles.ints(byId.get("dup").get("token_ids")));
        List<JsonNode> dead = JobFiles.committedLines(out.resolve("dead-letters"), "dead-letters");
        assertEquals(1, dead.size(), dead.toString());
        assertEquals("job", dead.get(0).get("source").asText());
        assertEquals("dup", dead.get(0).get("request_id").asText());
        assertTrue(dead.get(0).get("reason").asText().contains("duplicate request id"));
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void avroFilesOfAnOlderSchemaVersionAndCorruptOnes() throws Exception {
        Path dir = tmp.resolve("avro-in");
        Files.createDirectories(dir);
        org.apache.avro.Schema v1 = dev.specdec.job.records.RecordCodec.historySchema("GenerationRequest-v1.avsc");
        Map<String, String> prompts = new LinkedHashMap<>();
        prompts.put("v1-a", "In the beginning God created");
        prompts.put("v1-b", "And the evening and the morning");
        try (org.apache.avro.file.DataFileWriter<org.apache.avro.generic.GenericRecord> w =
                     new org.apache.avro.file.DataFileWriter<>(new org.apache.avro.generic.GenericDatumWriter<>(v1))) {
            w.create(v1, dir.resolve("requests.avro").toFile());
            for (Map.Entry<String, String> e : prompts.entrySet()) {
                org.apache.avro.generic.GenericRecord r = new org.apache.avro.generic.GenericRecordBuilder(v1)
                        .set("request_id", e.getKey()).set("prompt", e.getValue()).set("max_new_tokens", MAX_NEW)
                        .build();
                w.append(r);
            }
        }
        Files.write(dir.resolve("broken.avro"), "definitely not avro".getBytes());
        Path out = tmp.resolve("avro-out");
        runJob(dir, out, 2, 2);
        Map<String, JsonNode> byId = resultsById(out);
        Map<String, int[]> expected = TinyModel.reference(model, prompts, SamplingParams.greedy(MAX_NEW));
        assertEquals(prompts.keySet(), byId.keySet());
        for (String id : prompts.keySet()) {
            assertArrayEquals(expected.get(id), JobFiles.ints(byId.get(id).get("token_ids")), id);
        }
        List<JsonNode> dead = JobFiles.committedLines(out.resolve("dead-letters"), "dead-letters");
        assertEquals(1, dead.size(), dead.toString());
        assertTrue(dead.get(0).get("file").asText().endsWith("broken.avro"));
        assertTrue(dead.get(0).get("reason").asText().contains("not an Avro container file"), dead.toString());
    }

    private static void assertError(Map<String, JsonNode> byId, String id, String fragment) {
        JsonNode r = byId.get(id);
        assertTrue(r != null, "no result for " + id);
        assertEquals("error", r.get("finish_reason").asText(), r.toString());
        assertTrue(r.get("error").asText().contains(fragment), r.toString());
        assertEquals(0, r.get("token_ids").size());
    }
}

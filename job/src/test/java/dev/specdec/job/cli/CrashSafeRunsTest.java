package dev.specdec.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.job.kafka.ExactlyOnceResults;
import dev.specdec.job.kafka.KafkaTestCluster;
import dev.specdec.job.records.RecordCodec;
import dev.specdec.job.records.RequestJson;
import dev.specdec.records.GenerationRequest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Local runs survive {@code kill -9}: {@code serve-local} and {@code batch} run in a JVM of their own,
 * are killed mid-decoding with SIGKILL (no shutdown hook, no cancel), and are started again on the same
 * folder. Every request gets exactly one result (read_committed, or committed result files), with the
 * tokens plain greedy decoding gives.
 */
class CrashSafeRunsTest {
    static final int NEW_TOKENS = 150;

    static Map<String, String> prompts(int n) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String line = TinyModel.CORPUS.get(i % TinyModel.CORPUS.size());
            out.put("r" + i, line.substring(0, 12 + i % 7));
        }
        return out;
    }

    static SamplingParams params() {
        return SamplingParams.greedy(NEW_TOKENS).withIgnoreEos(true);
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void serveLocalKilledMidDecodingResumesAndAnswersEveryRequestOnce(@TempDir Path tmp) throws Exception {
        Path model = TinyModel.create(tmp.resolve("model"));
        Path state = tmp.resolve("state");
        int port = LocalKafkaBroker.freePort();
        String[] args = {"serve-local", "--port", Integer.toString(port), "--web-port", Integer.toString(LocalKafkaBroker.freePort()),
                "--state-dir", state.toString(), "--model", model.toString(), "--batch-size", "2",
                "--checkpoint-interval", "200ms", "--chunk-topic", "", "--warm-up-tokens", "0"};
        String bootstrap = "127.0.0.1:" + port;
        Map<String, String> prompts = prompts(16);
        RecordCodec<GenerationRequest> codec = RecordCodec.requests();
        List<Map.Entry<String, byte[]>> records = new ArrayList<>();
        prompts.forEach((id, p) -> records.add(new AbstractMap.SimpleEntry<>(id,
                codec.encode(RequestJson.newRequest(id, params()).setPrompt(p).build()))));

        int beforeKill;
        try (CommandProcess first = CommandProcess.start(args)) {
            first.awaitLine("bootstrap:", Duration.ofMinutes(2));
            KafkaTestCluster.send(bootstrap, Map.of(), "prompts", records);
            beforeKill = KafkaTestCluster.readCommitted(bootstrap, Map.of(), "results", l -> l.size() >= 3,
                    Duration.ofMinutes(2), Duration.ZERO).size();
            first.kill();
        }
        assertTrue(beforeKill >= 3 && beforeKill < prompts.size(),
                "the kill should come mid-run, with " + beforeKill + " of " + prompts.size() + " results committed");

        try (CommandProcess second = CommandProcess.start(args)) {
            second.awaitLine("bootstrap:", Duration.ofMinutes(2));
            assertTrue(second.stderr().contains("resuming from checkpoint"), second.stderr());
            List<ConsumerRecord<byte[], byte[]>> recs = KafkaTestCluster.readCommitted(bootstrap, Map.of(), "results",
                    l -> l.size() >= prompts.size(), Duration.ofMinutes(3), Duration.ofSeconds(3));
            int resumed = ExactlyOnceResults.check(recs, model, prompts, params());
            assertTrue(resumed > 0, "no request continued from the checkpoint mid-generation");
        }
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void batchKilledMidRunResumesWithoutRepeatingAResult(@TempDir Path tmp) throws Exception {
        Path model = TinyModel.create(tmp.resolve("model"));
        Map<String, String> prompts = prompts(24);
        StringBuilder lines = new StringBuilder();
        prompts.forEach((id, p) -> lines.append("{\"id\":\"").append(id).append("\",\"prompt\":\"").append(p)
                .append("\",\"max_new_tokens\":").append(NEW_TOKENS).append(",\"ignore_eos\":true}\n"));
        lines.append("not json\n");
        Path input = tmp.resolve("in.jsonl");
        Files.writeString(input, lines, StandardCharsets.UTF_8);
        Path out = tmp.resolve("out");
        List<String> args = new ArrayList<>(List.of("batch", "--input", input.toString(), "--output", out.toString(),
                "--model", model.toString(), "--batch-size", "2", "--checkpoint-interval", "200ms", "--quiet",
                "--web-port", Integer.toString(LocalKafkaBroker.freePort()), "--warm-up-tokens", "0"));

        try (CommandProcess first = CommandProcess.start(args.toArray(String[]::new))) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (OutputFiles.committedLines(out, "results").size() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            first.kill();
        }
        int beforeKill = OutputFiles.committedLines(out, "results").size();
        assertTrue(beforeKill >= 3 && beforeKill < prompts.size(),
                "the kill should come mid-run, with " + beforeKill + " of " + prompts.size() + " results committed");
        try (CommandProcess again = CommandProcess.start(args.toArray(String[]::new))) {
            assertEquals(2, again.await(Duration.ofMinutes(2)), "a second run without --resume must refuse");
            assertTrue(again.stderr().contains("--resume"), again.stderr());
        }
        args.add("--resume");
        try (CommandProcess resumed = CommandProcess.start(args.toArray(String[]::new))) {
            assertEquals(0, resumed.await(Duration.ofMinutes(4)), resumed.stderr());
            assertTrue(resumed.stderr().contains("resuming from checkpoint"), resumed.stderr());
        }
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode r : OutputFiles.committedLines(out, "results")) {
            assertNull(byId.put(r.get("request_id").asText(), r), "a second result for " + r.get("request_id"));
        }
        assertEquals(prompts.keySet(), byId.keySet());
        Map<String, int[]> expected = TinyModel.reference(model, prompts, params());
        for (String id : prompts.keySet()) {
            int[] got = new int[byId.get(id).get("token_ids").size()];
            for (int i = 0; i < got.length; i++) {
                got[i] = byId.get(id).get("token_ids").get(i).asInt();
            }
            assertArrayEquals(expected.get(id), got, "tokens of " + id);
        }
        assertEquals(1, OutputFiles.committedLines(out.resolve("dead-letters"), "dead-letters").size());
        assertTrue(LocalCheckpoints.latest(out.resolve(".checkpoints")).isEmpty(), "a finished run keeps no checkpoint");
        try (var files = Files.list(out)) {
            Set<String> hidden = new java.util.TreeSet<>();
            files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(".results")).forEach(hidden::add);
            assertEquals(Set.of(), hidden, "abandoned in-progress files");
        }
        assertNotEquals(0, beforeKill);
    }
}

package dev.specdec.job.kafka;

import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.job.decode.DecodeSettings;
import dev.specdec.job.ingest.KafkaRequestDeserializerTest;
import dev.specdec.job.pipeline.JobEnvironment;
import dev.specdec.job.pipeline.KafkaEndpoint;
import dev.specdec.job.pipeline.StreamingJob;
import dev.specdec.job.records.OutputRecords;
import dev.specdec.job.records.RecordCodec;
import dev.specdec.records.DeadLetter;
import dev.specdec.records.FinishReason;
import dev.specdec.records.GenerationResult;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The records of the hardening issue, sent to the running job through a real broker: an Avro record
 * that declares two billion chat messages, a 2 MB record, a 900 KB number, a megabyte of metadata,
 * a tombstone, invalid UTF-8, an id with a lone surrogate, 18,000 stop strings, a denormal
 * temperature, a timeout of Long.MAX_VALUE (refused, not overflowed), an unknown chat role, a prompt that does not fit the
 * context (and one that asks to be truncated), then 500 requests at once. The job runs with
 * restarts turned off, so a single failure would end it: it must still be running at the end, every
 * hostile record must have its error result or dead letter, each small, and every request its one result.
 */
class HostileRecordsTest {
    @TempDir
    static Path tmp;
    @RegisterExtension
    static final KafkaWithTinyModel kafka = new KafkaWithTinyModel();

    static Map.Entry<String, byte[]> json(String key, String json) {
        return new AbstractMap.SimpleEntry<>(key, json.getBytes(StandardCharsets.UTF_8));
    }

    static Map.Entry<String, byte[]> raw(String key, byte[] value) {
        return new AbstractMap.SimpleEntry<>(key, value);
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void hostileRecordsGetSmallAnswersAndTheJobKeepsServing() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic("h-prompts", 1, (short) 1).configs(Map.of("max.message.bytes", "8388608")),
                    new NewTopic("h-results", 1, (short) 1), new NewTopic("h-dead", 1, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
        }
        List<Map.Entry<String, byte[]>> in = new ArrayList<>();
        in.add(raw(null, KafkaRequestDeserializerTest.hugeMessageArray()));
        in.add(json("huge", "{\"id\":\"huge\",\"prompt\":\"" + "a".repeat(2 << 20) + "\"}"));
        in.add(json("number", "{\"id\":\"number\",\"prompt\":\"p\",\"max_new_tokens\":\"" + "9".repeat(900_000) + "\"}"));
        StringBuilder meta = new StringBuilder("{\"id\":\"meta\",\"prompt\":\"p\",\"metadata\":{");
        for (int i = 0; i < 100; i++) {
            meta.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"").append("m".repeat(9000)).append('"');
        }
        in.add(json("meta", meta.append("}}").toString()));
        in.add(raw("tomb", null));
        ByteArrayOutputStream bad = new ByteArrayOutputStream();
        bad.writeBytes("{\"id\":\"badutf\",\"prompt\":\"And God ".getBytes(StandardCharsets.UTF_8));
        bad.writeBytes(new byte[] {(byte) 0xff, (byte) 0xfe});
        bad.writeBytes("\"}".getBytes(StandardCharsets.UTF_8));
        in.add(raw("badutf", bad.toByteArray()));
        in.add(json("surrogate", "{\"id\":\"x\\ud800y\",\"prompt\":\"p\"}"));
        StringBuilder stops = new StringBuilder("{\"id\":\"stops\",\"prompt\":\"p\",\"stop\":[");
        for (int i = 0; i < 18_000; i++) {
            stops.append(i == 0 ? "" : ",").append("\"s").append(i).append('"');
        }
        in.add(json("stops", stops.append("]}").toString()));
        in.add(json("tiny-temp", "{\"id\":\"tiny-temp\",\"prompt\":\"And God said\",\"max_new_tokens\":8,\"temperature\":1e-310}"));
        in.add(json("forever", "{\"id\":\"forever\",\"prompt\":\"And God said\",\"max_new_tokens\":8,\"timeout_ms\":9223372036854775807}"));
        in.add(json("role", "{\"id\":\"role\",\"messages\":[{\"role\":\"hacker\",\"content\":\"hi\"}]}"));
        String longPrompt = String.join(" ", java.util.Collections.nCopies(40, TinyModel.CORPUS.get(0)));
        in.add(json("too-long", "{\"id\":\"too-long\",\"prompt\":\"" + longPrompt + "\",\"max_new_tokens\":8}"));
        in.add(json("truncated", "{\"id\":\"truncated\",\"prompt\":\"" + longPrompt
                + "\",\"max_new_tokens\":8,\"truncate_prompt\":true}"));
        in.add(json("canary", "{\"id\":\"canary\",\"prompt\":\"And God said\",\"max_new_tokens\":8}"));
        KafkaTestCluster.send(kafka.bootstrap(), Map.of(), "h-prompts", in);

        KafkaEndpoint endpoint = new KafkaEndpoint(kafka.bootstrap(), "h-prompts", "h-results", "h-dead", "h", "h",
                Duration.ofMinutes(5));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1,
                JobEnvironment.configuration(Duration.ofMillis(300), tmp.resolve("ckpt").toUri().toString(), 0));
        StreamingJob.attach(env, endpoint, DecodeSettings.builder().model(kafka.model().toString()).maxBatch(4).build(),
                dev.specdec.job.records.RequestJson.STANDARD_DEFAULTS, 1);
        JobClient job = env.executeAsync("hostile");
        try {
            Set<String> answered = Set.of("number", "meta", "badutf", "stops", "tiny-temp", "forever", "role", "too-long",
                    "truncated", "canary");
            Map<String, GenerationResult> results = results("h-results", answered.size());
            assertEquals(answered, results.keySet());
            for (String id : List.of("meta", "badutf", "stops", "role", "too-long", "forever")) {
                assertEquals(FinishReason.ERROR, results.get(id).getFinishReason(), id);
            }
            assertTrue(results.get("meta").getError().contains("metadata"), results.get("meta").getError());
            assertTrue(results.get("forever").getError().contains("timeout_ms must be in"), results.get("forever").getError());
            assertTrue(results.get("badutf").getError().contains("UTF-8"), results.get("badutf").getError());
            assertTrue(results.get("stops").getError().contains("stop-strings"), results.get("stops").getError());
            assertTrue(results.get("role").getError().contains("roles are system, user and assistant"), results.get("role").getError());
            assertTrue(results.get("too-long").getError().contains("does not fit the context")
                    || results.get("too-long").getError().contains("exceeds the context"), results.get("too-long").getError());
            assertEquals(FinishReason.ERROR, results.get("number").getFinishReason());
            Map<String, int[]> greedy = TinyModel.reference(kafka.model(), Map.of("g", "And God said"), SamplingParams.greedy(8));
            for (String id : List.of("tiny-temp", "canary")) {
                assertNull(results.get(id).getError(), id);
                assertArrayEquals(greedy.get("g"), tokens(results.get(id)), "tokens of " + id);
            }
            assertNull(results.get("truncated").getError());
            assertEquals(8, results.get("truncated").getTokenIds().size());

            List<DeadLetter> dead = new ArrayList<>();
            RecordCodec<DeadLetter> codec = RecordCodec.deadLetters();
            for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted("h-dead", l -> l.size() >= 5, Duration.ofMinutes(1),
                    Duration.ofSeconds(1))) {
                assertTrue(r.value().length < 80 * 1024, "a dead letter of " + r.value().length + " bytes");
                dead.add(codec.decode(r.value()));
            }
            // A record that parses to an id but not to a request is both: a dead letter (the record) and
            // an error result (so its sender hears back).
            assertEquals(5, dead.size(), dead.stream().map(d -> d.getRequestId() + ": " + d.getReason()).toList().toString());
            assertTrue(dead.stream().anyMatch(d -> d.getReason().contains("empty record")));
            assertTrue(dead.stream().anyMatch(d -> "number".equals(d.getRequestId()) && d.getReason().length() <= 1024));
            assertTrue(dead.stream().anyMatch(d -> d.getReason().contains("record-bytes")));
            assertTrue(dead.stream().anyMatch(d -> d.getReason().contains("unpaired surrogate")));
            assertEquals(JobStatus.RUNNING, job.getJobStatus().get(10, TimeUnit.SECONDS), "the job stopped");

            // A flood: 500 requests at once, each answered once, while the job stays up.
            List<Map.Entry<String, byte[]>> flood = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                flood.add(json("f" + i, "{\"id\":\"f" + i + "\",\"prompt\":\"" + TinyModel.CORPUS.get(i % 9).substring(0, 10 + i % 5)
                        + "\",\"max_new_tokens\":4,\"ignore_eos\":true}"));
            }
            KafkaTestCluster.send(kafka.bootstrap(), Map.of(), "h-prompts", flood);
            Map<String, GenerationResult> all = results("h-results", answered.size() + flood.size());
            for (int i = 0; i < 500; i++) {
                GenerationResult r = all.get("f" + i);
                assertTrue(r != null && r.getError() == null && r.getTokenIds().size() == 4, "f" + i + ": " + r);
            }
            assertEquals(JobStatus.RUNNING, job.getJobStatus().get(10, TimeUnit.SECONDS), "the job stopped");
        } finally {
            job.cancel().get(1, TimeUnit.MINUTES);
        }
    }

    private static Map<String, GenerationResult> results(String topic, int expected) throws Exception {
        Map<String, GenerationResult> byId = new HashMap<>();
        Set<String> seen = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted(topic, l -> l.size() >= expected, Duration.ofMinutes(4),
                Duration.ofSeconds(2))) {
            assertTrue(r.value().length < 80 * 1024, "a result of " + r.value().length + " bytes");
            GenerationResult res = OutputRecords.readResult(r);
            assertTrue(seen.add(res.getRequestId()), "a second result for " + res.getRequestId());
            byId.put(res.getRequestId(), res);
        }
        assertEquals(expected, byId.size(), "results: " + byId.keySet());
        return byId;
    }

    private static int[] tokens(GenerationResult r) {
        return r.getTokenIds().stream().mapToInt(Integer::intValue).toArray();
    }
}

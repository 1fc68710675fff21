package dev.specdec.job.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.job.cli.TailCommand;
import dev.specdec.job.decode.DecodeSettings;
import dev.specdec.job.pipeline.JobEnvironment;
import dev.specdec.job.pipeline.KafkaEndpoint;
import dev.specdec.job.pipeline.StreamingJob;
import dev.specdec.job.records.OutputFormat;
import dev.specdec.job.records.OutputRecords;
import dev.specdec.job.records.RecordCodec;
import dev.specdec.job.records.RecordJson;
import dev.specdec.job.records.RequestJson;
import dev.specdec.records.DeadLetter;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.SpeculativeStats;
import dev.specdec.records.Timings;
import dev.specdec.records.TokenChunk;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same requests served by two jobs on a real broker, one writing Avro and one JSON: the results
 * and chunks read back equal, and every output record (results, chunks, dead letters) carries its
 * headers, read here with a plain KafkaConsumer as any client would; {@code specdec tail} prints the
 * same results from either topic.
 */
class KafkaOutputFormatTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String AVRO_TYPE = "application/vnd.apache.avro.single-object";
    static final List<String> SERVED = List.of("q0", "q1", "q2", "q3");

    @TempDir
    static Path tmp;
    @RegisterExtension
    static final KafkaWithTinyModel kafka = new KafkaWithTinyModel();

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void jsonOutputEqualsAvroOutputAndEveryRecordCarriesItsHeaders() throws Exception {
        List<Map.Entry<String, byte[]>> in = new ArrayList<>();
        RecordCodec<dev.specdec.records.GenerationRequest> requests = RecordCodec.requests();
        SamplingParams params = new SamplingParams(16, 0, 0, 1, 0, java.util.Set.of(), List.of(), false);
        for (int i = 0; i < SERVED.size(); i++) {
            String id = SERVED.get(i);
            in.add(new AbstractMap.SimpleEntry<>(id, requests.encode(RequestJson.newRequest(id, params)
                    .setPrompt(TinyModel.CORPUS.get(i % TinyModel.CORPUS.size()).substring(0, 18)).build())));
        }
        // Invalid: an error result (not a dead letter), in both formats.
        in.add(new AbstractMap.SimpleEntry<>("bad", requests.encode(RequestJson.newRequest("bad", params).setPrompt("x")
                .setMaxNewTokens(-1).build())));
        in.add(new AbstractMap.SimpleEntry<>(null, new byte[] {1, 2, 3}));

        JobClient avro = startJob("fmt-avro", OutputFormat.AVRO, in);
        JobClient json = startJob("fmt-json", OutputFormat.JSON, in);
        try {
            Map<String, GenerationResult> fromAvro = results("fmt-avro", AVRO_TYPE, 5);
            Map<String, GenerationResult> fromJson = results("fmt-json", "application/json", 5);
            assertEquals(comparable(fromAvro), comparable(fromJson));
            assertEquals(streamedTokens(fromAvro, chunks("fmt-avro", AVRO_TYPE)), streamedTokens(fromJson,
                    chunks("fmt-json", "application/json")));
            assertEquals(tail("fmt-avro-results"), tail("fmt-json-results"));
            assertDeadLetterHeaders("fmt-avro");
            assertDeadLetterHeaders("fmt-json");
        } finally {
            avro.cancel().get(1, TimeUnit.MINUTES);
            json.cancel().get(1, TimeUnit.MINUTES);
        }
    }

    /** What {@code specdec tail} prints of a results topic: per request id, its tokens, text and finish reason. */
    private static Map<String, String> tail(String topic) throws Exception {
        java.io.PrintStream old = System.out;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new java.io.PrintStream(buf, true, StandardCharsets.UTF_8));
            code = new picocli.CommandLine(new TailCommand()).execute("--bootstrap-servers", kafka.bootstrap(),
                    "--topic", topic, "--count", "5", "--timeout", "60s");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code, buf.toString(StandardCharsets.UTF_8));
        Map<String, String> out = new TreeMap<>();
        for (String line : buf.toString(StandardCharsets.UTF_8).lines().toList()) {
            JsonNode r = JSON.readTree(line);
            out.put(r.get("request_id").asText(), r.get("token_ids") + " " + r.get("text") + " " + r.get("finish_reason"));
        }
        assertEquals(5, out.size(), out.toString());
        return out;
    }

    private static JobClient startJob(String prefix, OutputFormat format, List<Map.Entry<String, byte[]>> in) throws Exception {
        kafka.createTopics(1, prefix + "-prompts", prefix + "-results", prefix + "-dead", prefix + "-chunks");
        kafka.send(prefix + "-prompts", in);
        KafkaEndpoint endpoint = new KafkaEndpoint(kafka.bootstrap(), prefix + "-prompts", prefix + "-results",
                prefix + "-dead", prefix, prefix, Duration.ofMinutes(5), prefix + "-chunks").withOutputFormat(format);
        DecodeSettings settings = DecodeSettings.builder().model(kafka.model().toString()).maxBatch(2).streamChunks(true).build();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1,
                JobEnvironment.configuration(Duration.ofMillis(300), tmp.resolve(prefix + "-ckpt").toUri().toString(), 3));
        StreamingJob.attach(env, endpoint, settings, RequestJson.STANDARD_DEFAULTS, 1);
        return env.executeAsync(prefix);
    }

    private static Map<String, GenerationResult> results(String prefix, String contentType, int expected) throws Exception {
        Map<String, GenerationResult> byId = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted(prefix + "-results", l -> l.size() >= expected,
                Duration.ofMinutes(4), Duration.ofSeconds(2))) {
            GenerationResult res = OutputRecords.readResult(r);
            assertHeaders(r, contentType, GenerationResult.getClassSchema(), res.getRequestId());
            if (contentType.equals("application/json")) {
                assertEquals(RecordJson.toJsonLine(res), new String(r.value(), StandardCharsets.UTF_8), "the JSONL line");
            }
            assertNull(byId.put(res.getRequestId(), res), "a second result for " + res.getRequestId());
        }
        assertEquals(expected, byId.size(), "results: " + byId.keySet());
        return byId;
    }

    private static List<ConsumerRecord<byte[], byte[]>> chunks(String prefix, String contentType) throws Exception {
        List<ConsumerRecord<byte[], byte[]>> recs = kafka.readCommitted(prefix + "-chunks",
                l -> lastChunkIds(l).containsAll(SERVED), Duration.ofMinutes(2), Duration.ofSeconds(1));
        for (ConsumerRecord<byte[], byte[]> r : recs) {
            assertHeaders(r, contentType, TokenChunk.getClassSchema(), OutputRecords.readChunk(r).getRequestId());
        }
        return recs;
    }

    private static java.util.Set<String> lastChunkIds(List<ConsumerRecord<byte[], byte[]>> records) {
        java.util.Set<String> out = new java.util.HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            try {
                TokenChunk c = OutputRecords.readChunk(r);
                if (c.getLast()) {
                    out.add(c.getRequestId());
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return out;
    }

    /** Each request's tokens as its chunks placed them, checked against its result's. */
    private static Map<String, List<Integer>> streamedTokens(Map<String, GenerationResult> results,
                                                             List<ConsumerRecord<byte[], byte[]>> chunks) throws Exception {
        Map<String, List<Integer>> out = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : chunks) {
            TokenChunk c = OutputRecords.readChunk(r);
            List<Integer> tokens = out.computeIfAbsent(c.getRequestId(), k -> new ArrayList<>());
            for (int i = 0; i < c.getTokenIds().size(); i++) {
                if (c.getTokenOffset() + i == tokens.size()) {
                    tokens.add(c.getTokenIds().get(i));
                }
            }
        }
        for (Map.Entry<String, List<Integer>> e : out.entrySet()) {
            assertEquals(results.get(e.getKey()).getTokenIds(), e.getValue(), "streamed tokens of " + e.getKey());
        }
        assertTrue(out.keySet().containsAll(SERVED), "requests streamed: " + out.keySet());
        return out;
    }

    private static void assertDeadLetterHeaders(String prefix) throws Exception {
        List<ConsumerRecord<byte[], byte[]>> recs = kafka.readCommitted(prefix + "-dead", l -> !l.isEmpty(),
                Duration.ofMinutes(1), Duration.ofSeconds(1));
        assertEquals(1, recs.size());
        DeadLetter d = RecordCodec.deadLetters().decode(recs.get(0).value());
        assertNull(d.getRequestId());
        assertHeaders(recs.get(0), AVRO_TYPE, DeadLetter.getClassSchema(), null);
    }

    /** request_id as the key (absent when unknown), the content type, and the schema's CRC-64-AVRO fingerprint. */
    private static void assertHeaders(ConsumerRecord<byte[], byte[]> r, String contentType, Schema schema, String id) {
        assertEquals(id, header(r, "request_id"));
        assertEquals(contentType, header(r, "content-type"));
        String fingerprint = String.format("%016x", SchemaNormalization.parsingFingerprint64(schema));
        assertEquals(fingerprint, header(r, "schema-fingerprint"));
        if (contentType.equals(AVRO_TYPE)) {
            long inValue = ByteBuffer.wrap(r.value(), 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(fingerprint, String.format("%016x", inValue), "the fingerprint in the single-object header");
        } else {
            assertEquals('{', r.value()[0]);
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String key) {
        Header h = r.headers().lastHeader(key);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** Results without what depends on the clock (timings, completion time). */
    private static Map<String, GenerationResult> comparable(Map<String, GenerationResult> results) {
        Map<String, GenerationResult> out = new HashMap<>();
        results.forEach((id, r) -> {
            SpeculativeStats s = r.getSpeculative();
            out.put(id, GenerationResult.newBuilder(r).setTimings(new Timings(0.0, 0.0, 0.0, 0.0))
                    .setSpeculative(SpeculativeStats.newBuilder(s).setDraftMs(0.0).setVerifyMs(0.0).build())
                    .setCompletedTimeMs(Instant.EPOCH).build());
        });
        assertTrue(out.values().stream().anyMatch(r -> !r.getTokenIds().isEmpty()), "nothing was generated");
        return out;
    }
}

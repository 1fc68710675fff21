package dev.specdec.job.kafka;

import dev.specdec.job.records.RequestJson;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.job.FailOnce;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.job.decode.DecodeSettings;
import dev.specdec.job.pipeline.JobEnvironment;
import dev.specdec.job.pipeline.KafkaEndpoint;
import dev.specdec.job.pipeline.SpecdecPipeline;
import dev.specdec.job.pipeline.StreamingJob;
import dev.specdec.job.records.OutputRecords;
import dev.specdec.job.records.RecordCodec;
import dev.specdec.records.DeadLetter;
import dev.specdec.records.FinishReason;
import dev.specdec.records.GenerationRequest;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.TokenChunk;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The streaming job against a real in-process KRaft broker: requests in on a topic (current and
 * version-1 Avro, JSON), poison records among them; every request answered exactly once on the
 * results topic (read_committed) with the engine's greedy tokens, poison in the dead-letter topic
 * with its partition and offset; partial output on the chunk topic that adds up to each result
 * (stop strings held back); and the same after a failure injected mid-generation.
 */
class KafkaPipelineTest {
    @TempDir
    static Path tmp;
    @RegisterExtension
    static final KafkaWithTinyModel kafka = new KafkaWithTinyModel();
    static final RecordCodec<GenerationRequest> REQUESTS = RecordCodec.requests();

    private static Map.Entry<String, byte[]> record(String key, byte[] value) {
        return new AbstractMap.SimpleEntry<>(key, value);
    }

    private static GenerationRequest request(String id, String prompt, int maxNew, boolean ignoreEos) {
        return RequestJson.newRequest(id, new SamplingParams(maxNew, 0, 0, 1, 0, java.util.Set.of(), List.of(), ignoreEos)).setPrompt(prompt).build();
    }

    private static JobClient startJob(String prefix, int batch, int queueFactor, Duration checkpoints,
                                      FailOnce<GenerationResult> failure) throws Exception {
        KafkaEndpoint endpoint = new KafkaEndpoint(kafka.bootstrap(), prefix + "-prompts", prefix + "-results",
                prefix + "-dead", prefix, prefix, Duration.ofMinutes(5), prefix + "-chunks");
        DecodeSettings settings = DecodeSettings.builder().model(kafka.model().toString()).maxBatch(batch)
                .queueFactor(queueFactor).streamChunks(true).build();
        Configuration conf = JobEnvironment.configuration(checkpoints, tmp.resolve(prefix + "-ckpt").toUri().toString(), 3);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        if (failure == null) {
            StreamingJob.attach(env, endpoint, settings, RequestJson.STANDARD_DEFAULTS, 1);
        } else {
            SpecdecPipeline.Outputs o = SpecdecPipeline.builder().decode(settings).kafkaInput(endpoint).build(env);
            SpecdecPipeline.sinkResultsToKafka(o.results().map(failure).name("inject-failure"), endpoint);
            SpecdecPipeline.sinkDeadLettersToKafka(o.deadLetters(), endpoint);
            SpecdecPipeline.sinkChunksToKafka(o.chunks(), endpoint);
        }
        return env.executeAsync(prefix);
    }

    private static Map<String, GenerationResult> results(String topic, int expected) throws Exception {
        List<ConsumerRecord<byte[], byte[]>> recs = kafka.readCommitted(topic, l -> l.size() >= expected,
                Duration.ofMinutes(3), Duration.ofSeconds(3));
        Map<String, GenerationResult> byId = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : recs) {
            GenerationResult res = OutputRecords.readResult(r);
            assertEquals(res.getRequestId(), new String(r.key(), StandardCharsets.UTF_8));
            GenerationResult prev = byId.put(res.getRequestId(), res);
            assertEquals(null, prev, "a second result for " + res.getRequestId());
        }
        assertEquals(expected, recs.size(), "results: " + byId.keySet());
        return byId;
    }

    /** A request's output put together from its chunks, each placed at its offsets. */
    record Streamed(List<Integer> tokens, StringBuilder text, boolean last) {
    }

    /**
     * Reads the chunk topic until every one of {@code ids} has its last chunk, and puts each request's
     * tokens and text together by the chunks' offsets. Chunks may repeat (at least once), but any two
     * that cover the same place must agree.
     */
    private static Map<String, Streamed> chunks(String topic, java.util.Set<String> ids) throws Exception {
        List<ConsumerRecord<byte[], byte[]>> recs = kafka.readCommitted(topic, l -> {
            java.util.Set<String> done = new java.util.HashSet<>();
            for (ConsumerRecord<byte[], byte[]> r : l) {
                try {
                    TokenChunk c = OutputRecords.readChunk(r);
                    if (c.getLast()) {
                        done.add(c.getRequestId());
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            return done.containsAll(ids);
        }, Duration.ofMinutes(3), Duration.ofSeconds(1));
        Map<String, Streamed> out = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : recs) {
            TokenChunk c = OutputRecords.readChunk(r);
            assertEquals(c.getRequestId(), new String(r.key(), StandardCharsets.UTF_8));
            Streamed s = out.computeIfAbsent(c.getRequestId(), k -> new Streamed(new ArrayList<>(), new StringBuilder(), false));
            for (int i = 0; i < c.getTokenIds().size(); i++) {
                int at = c.getTokenOffset() + i;
                assertTrue(at <= s.tokens().size(), "chunk of " + c.getRequestId() + " leaves a gap at token " + at);
                if (at == s.tokens().size()) {
                    s.tokens().add(c.getTokenIds().get(i));
                } else {
                    assertEquals(s.tokens().get(at), c.getTokenIds().get(i), "a repeated chunk differs at token " + at);
                }
            }
            String have = s.text().toString();
            int from = have.offsetByCodePoints(0, Math.min(c.getTextOffset(), have.codePointCount(0, have.length())));
            assertEquals(c.getTextOffset(), have.codePointCount(0, from), "chunk of " + c.getRequestId() + " leaves a text gap");
            String overlap = have.substring(from);
            String text = c.getText();
            assertTrue(text.startsWith(overlap) || overlap.startsWith(text), "a repeated chunk's text differs");
            if (text.length() > overlap.length()) {
                s.text().append(text.substring(overlap.length()));
            }
            if (c.getLast()) {
                out.put(c.getRequestId(), new Streamed(s.tokens(), s.text(), true));
            }
        }
        return out;
    }

    private static void assertStreamedAsResults(Map<String, Streamed> streamed, Map<String, GenerationResult> results) {
        for (Map.Entry<String, GenerationResult> e : results.entrySet()) {
            Streamed s = streamed.get(e.getKey());
            assertNotNull(s, "no chunks for " + e.getKey());
            assertTrue(s.last(), "no last chunk for " + e.getKey());
            assertArrayEquals(tokens(e.getValue()), s.tokens().stream().mapToInt(Integer::intValue).toArray(),
                    "streamed tokens of " + e.getKey());
            assertEquals(e.getValue().getText(), s.text().toString(), "streamed text of " + e.getKey());
        }
    }

    private static int[] tokens(GenerationResult r) {
        return r.getTokenIds().stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void everyRequestExactlyOnceAndPoisonBecomesDeadLetters() throws Exception {
        String p = "basic";
        kafka.createTopics(2, p + "-prompts");
        kafka.createTopics(1, p + "-results", p + "-dead", p + "-chunks");
        Map<String, String> good = new LinkedHashMap<>();
        good.put("a1", "In the beginning God created");
        good.put("a2", "And the earth was without form");
        good.put("a3", "The quick brown fox");
        good.put("a4", "And God said");
        good.put("json-ok", "darkness was upon the face");
        good.put("old-v1", "And the evening and the morning");
        List<Map.Entry<String, byte[]>> in = new ArrayList<>();
        for (String id : List.of("a1", "a2", "a3", "a4")) {
            in.add(record(id, REQUESTS.encode(request(id, good.get(id), 20, false))));
        }
        in.add(record("json-ok", ("{\"request_id\":\"json-ok\",\"prompt\":\"" + good.get("json-ok")
                + "\",\"max_new_tokens\":20}").getBytes(StandardCharsets.UTF_8)));
        in.add(record("old-v1", encodeWithV1("old-v1", good.get("old-v1"), 20)));
        byte[] valid = REQUESTS.encode(request("cut", "hello", 20, false));
        in.add(record("cut", Arrays.copyOf(valid, valid.length / 2)));
        in.add(record(null, new byte[] {1, 2, 3, 4, 5}));
        in.add(record("json-bad", "{\"request_id\":\"json-bad\",\"prompt\":\"x\",\"temperature\":\"hot\"}"
                .getBytes(StandardCharsets.UTF_8)));
        in.add(record("neg", REQUESTS.encode(request("neg", "hello", -1, false))));
        // A stop string that starts in one token of the greedy output and ends in the next; decoded
        // plainly (one token per step), a step ends inside it, and streaming must hold its first
        // character back until it is clear whether the text ends there.
        String stopPrompt = "And the spirit of God moved";
        int[] plain = TinyModel.reference(kafka.model(), Map.of("s", stopPrompt), SamplingParams.greedy(20)).get("s");
        dev.specdec.engine.tokenizer.TextTokenizer tok = dev.specdec.engine.tokenizer.TextTokenizer.load(kafka.model());
        String plainText = tok.decode(plain);
        String stop = null;
        for (int k = 2; k < plain.length - 1 && stop == null; k++) {
            String before = tok.decode(Arrays.copyOf(plain, k));
            String after = tok.decode(Arrays.copyOf(plain, k + 1));
            int at = before.length() - 1;
            if (after.startsWith(before) && after.length() >= before.length() + 2
                    && plainText.indexOf(plainText.substring(at, at + 3)) == at) {
                stop = plainText.substring(at, at + 3);
            }
        }
        assertNotNull(stop, "no stop string across a token boundary in " + plainText);
        in.add(record("stopper", REQUESTS.encode(RequestJson.newRequest("stopper",
                new SamplingParams(20, 0, 0, 1, 0, java.util.Set.of(), List.of(stop), false)).setPrompt(stopPrompt).setDrafter(dev.specdec.records.Drafter.NONE).build())));
        kafka.send(p + "-prompts", in);

        JobClient job = startJob(p, 3, 2, Duration.ofMillis(300), null);
        try {
            Map<String, GenerationResult> byId = results(p + "-results", good.size() + 3);
            assertEquals(FinishReason.STOP, byId.get("stopper").getFinishReason());
            assertTrue(plainText.startsWith(byId.get("stopper").getText()) && !byId.get("stopper").getText().contains(stop),
                    "stopper: " + byId.get("stopper").getText() + " / stop '" + stop + "'");
            Map<String, GenerationResult> decoded = new HashMap<>(byId);
            decoded.keySet().removeAll(List.of("json-bad", "neg"));
            assertStreamedAsResults(chunks(p + "-chunks", decoded.keySet()), decoded);
            Map<String, int[]> expected = TinyModel.reference(kafka.model(), good, SamplingParams.greedy(20));
            for (String id : good.keySet()) {
                GenerationResult r = byId.get(id);
                assertNotNull(r, "no result for " + id);
                assertArrayEquals(expected.get(id), tokens(r), "tokens of " + id);
                assertEquals(null, r.getError());
            }
            assertEquals(FinishReason.ERROR, byId.get("json-bad").getFinishReason());
            assertTrue(byId.get("json-bad").getError().contains("temperature must be a number"));
            assertEquals(FinishReason.ERROR, byId.get("neg").getFinishReason());
            assertTrue(byId.get("neg").getError().contains("max_new_tokens"));

            RecordCodec<DeadLetter> dl = RecordCodec.deadLetters();
            List<DeadLetter> dead = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted(p + "-dead", l -> l.size() >= 3,
                    Duration.ofMinutes(1), Duration.ofSeconds(1))) {
                dead.add(dl.decode(r.value()));
            }
            assertEquals(3, dead.size(), dead.toString());
            for (DeadLetter d : dead) {
                assertEquals("kafka", d.getSource());
                assertEquals(p + "-prompts", d.getTopic());
                assertNotNull(d.getPartition());
                assertNotNull(d.getOffset());
            }
            assertTrue(dead.stream().anyMatch(d -> d.getReason().contains("undecodable Avro record")), dead.toString());
            assertTrue(dead.stream().anyMatch(d -> d.getReason().contains("not a GenerationRequest")
                    && Arrays.equals(bytes(d.getPayload()), new byte[] {1, 2, 3, 4, 5})), dead.toString());
            assertTrue(dead.stream().anyMatch(d -> "json-bad".equals(d.getRequestId())), dead.toString());
        } finally {
            job.cancel().get(1, TimeUnit.MINUTES);
        }
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void failureMidGenerationRestoresAndEveryRequestCompletesOnce() throws Exception {
        String p = "failover";
        kafka.createTopics(1, p + "-prompts", p + "-results", p + "-dead", p + "-chunks");
        Map<String, String> prompts = new LinkedHashMap<>();
        for (int i = 0; i < 8; i++) {
            prompts.put("f" + i, TinyModel.CORPUS.get(i % TinyModel.CORPUS.size()).substring(0, 20));
        }
        List<Map.Entry<String, byte[]>> in = new ArrayList<>();
        prompts.forEach((id, text) -> in.add(record(id, REQUESTS.encode(request(id, text, 120, true)))));
        kafka.send(p + "-prompts", in);

        FailOnce<GenerationResult> failure = new FailOnce<>(p, 2, 1);
        JobClient job = startJob(p, 2, 2, Duration.ofMillis(150), failure);
        try {
            Map<String, GenerationResult> byId = results(p + "-results", prompts.size());
            assertTrue(FailOnce.failed(p), "the failure was not injected");
            Map<String, int[]> expected = TinyModel.reference(kafka.model(), prompts,
                    SamplingParams.greedy(120).withIgnoreEos(true));
            int recovered = 0;
            for (String id : prompts.keySet()) {
                GenerationResult r = byId.get(id);
                assertNotNull(r, "no result for " + id);
                assertArrayEquals(expected.get(id), tokens(r), "tokens of " + id);
                assertEquals(FinishReason.LENGTH, r.getFinishReason());
                recovered += r.getRecoveries() > 0 ? 1 : 0;
            }
            assertTrue(recovered > 0, "no request resumed from a checkpoint mid-generation");
            // Chunks sent before the failure and again after the restore agree where they overlap.
            assertStreamedAsResults(chunks(p + "-chunks", prompts.keySet()), byId);
        } finally {
            job.cancel().get(1, TimeUnit.MINUTES);
        }
    }

    /** A request written by a client that still uses version 1 of the schema. */
    private static byte[] encodeWithV1(String id, String prompt, int maxNew) throws Exception {
        Schema v1 = RecordCodec.historySchema("GenerationRequest-v1.avsc");
        GenericRecord r = new GenericData.Record(v1);
        r.put("request_id", id);
        r.put("prompt", prompt);
        r.put("messages", new ArrayList<>());
        r.put("max_new_tokens", maxNew);
        r.put("temperature", 0.0);
        r.put("top_p", 1.0);
        r.put("top_k", 0);
        r.put("seed", 0L);
        r.put("stop", new ArrayList<>());
        r.put("stop_token_ids", new ArrayList<>());
        r.put("drafter", new GenericData.EnumSymbol(v1.getField("drafter").schema(), "DEFAULT"));
        r.put("submit_time_ms", 0L);
        ByteBuffer buf = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(r);
        byte[] out = new byte[buf.remaining()];
        buf.get(out);
        return out;
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}

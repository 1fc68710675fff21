package dev.specdec.job.decode;

import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.engine.tokenizer.TextTokenizer;
import dev.specdec.job.state.TokenizedRequest;
import dev.specdec.job.state.TokenizedRequestSerializer;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.TokenChunk;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroSerializer;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decode operator in Flink's keyed operator harness: requests are admitted and decoded part of
 * the way, the operator is snapshotted (compact and full-tensor forms), and a fresh operator restored
 * from that snapshot finishes them; every request ends exactly once with the tokens of plain
 * decoding, and restored requests say they were recovered.
 */
class SpeculativeDecodeOperatorTest {
    @TempDir
    static Path tmp;
    static Path model;
    static final Map<String, String> PROMPTS = new LinkedHashMap<>();
    static final int MAX_NEW = 40;

    @BeforeAll
    static void makeModel() throws Exception {
        model = TinyModel.create(tmp.resolve("model"));
        PROMPTS.put("h1", "In the beginning");
        PROMPTS.put("h2", "The quick brown fox jumps");
        PROMPTS.put("h3", "And God said");
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TokenizedRequest, GenerationResult> harness(
            DecodeSettings.CacheCheckpoint form) throws Exception {
        DecodeSettings settings = DecodeSettings.builder().model(model.toString()).defaultMethod(DecodingMethod.CTC)
                .maxBatch(4).warmUpTokens(0).streamChunks(true).cacheCheckpoint(form).build();
        KeyedOneInputStreamOperatorTestHarness<String, TokenizedRequest, GenerationResult> h =
                new KeyedOneInputStreamOperatorTestHarness<>(new SpeculativeDecodeOperatorFactory(settings),
                        TokenizedRequest::id, Types.STRING, TokenizedRequestSerializer.INSTANCE);
        h.setup(new AvroSerializer<>(GenerationResult.class));
        return h;
    }

    private static TokenizedRequest request(String id, int[] prompt, SamplingParams p) {
        return new TokenizedRequest(id, prompt, p, DecodingMethod.CTC.wireName(), Map.of(),
                new TokenizedRequest.Arrival(0, System.currentTimeMillis() * 1000, 0), false);
    }

    /** Runs the operator's mails (engine outcomes) until every request has {@code tokens} tokens or has ended. */
    private static void decodeUntil(KeyedOneInputStreamOperatorTestHarness<String, TokenizedRequest, GenerationResult> h,
                                    int tokens) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            Map<String, Integer> seen = new HashMap<>();
            var chunks = h.getSideOutput(SpeculativeDecodeOperator.CHUNKS);   // null until the first chunk
            for (StreamRecord<TokenChunk> c : chunks == null ? List.<StreamRecord<TokenChunk>>of() : chunks) {
                seen.merge(c.getValue().getRequestId(), c.getValue().getTokenIds().size(), Integer::sum);
            }
            if (seen.size() == PROMPTS.size() && seen.values().stream().allMatch(n -> n >= tokens)) {
                return;
            }
            Optional<Mail> mail = h.getTaskMailbox().tryTake(TaskMailbox.MIN_PRIORITY);
            if (mail.isPresent()) {
                mail.get().run();
            } else {
                Thread.sleep(1);
            }
        }
        throw new AssertionError("requests did not reach " + tokens + " tokens within a minute");
    }

    private void resumesAfterRestore(DecodeSettings.CacheCheckpoint form, SamplingParams p) throws Exception {
        Map<String, int[]> expected = TinyModel.reference(model, PROMPTS, p);
        Map<String, GenerationResult> results = new HashMap<>();
        OperatorSubtaskState snapshot;
        try (TextTokenizer tok = TextTokenizer.load(model);
             KeyedOneInputStreamOperatorTestHarness<String, TokenizedRequest, GenerationResult> first = harness(form)) {
            first.open();
            for (Map.Entry<String, String> e : PROMPTS.entrySet()) {
                first.processElement(request(e.getKey(), tok.encode(e.getValue()), p), 0);
            }
            decodeUntil(first, 6);
            first.prepareSnapshotPreBarrier(1);
            snapshot = first.snapshot(1, 1);
            first.extractOutputValues().forEach(r -> results.put(r.getRequestId(), r));
        }
        try (KeyedOneInputStreamOperatorTestHarness<String, TokenizedRequest, GenerationResult> second = harness(form)) {
            second.initializeState(snapshot);
            second.open();
            second.endInput();
            for (GenerationResult r : second.extractOutputValues()) {
                assertTrue(results.put(r.getRequestId(), r) == null, "one result per request: " + r.getRequestId());
                assertEquals(1, r.getRecoveries(), "resumed after the restore: " + r.getRequestId());
            }
        }
        assertEquals(PROMPTS.keySet(), results.keySet());
        for (String id : PROMPTS.keySet()) {
            int[] got = results.get(id).getTokenIds().stream().mapToInt(Integer::intValue).toArray();
            assertArrayEquals(expected.get(id), got, form + ": tokens of " + id);
        }
    }

    @Test
    void compactSnapshotsResumeByReprefill() throws Exception {
        resumesAfterRestore(DecodeSettings.CacheCheckpoint.COMPACT, SamplingParams.greedy(MAX_NEW).withIgnoreEos(true));
    }

    @Test
    void fullTensorSnapshotsResumeFromTheirCaches() throws Exception {
        resumesAfterRestore(DecodeSettings.CacheCheckpoint.FULL_TENSOR,
                SamplingParams.greedy(MAX_NEW).withIgnoreEos(true));
        resumesAfterRestore(DecodeSettings.CacheCheckpoint.FULL_TENSOR,
                new SamplingParams(MAX_NEW, 0.8, 20, 0.95, 7, Set.of(), List.of(), true));
    }

    /**
     * A cancel the operator has received but the engine has not yet applied when a checkpoint is
     * taken is in that checkpoint: the restored operator cancels the request, which ends once, as
     * cancelled; the other requests finish normally.
     */
    @Test
    void aCancelInTheCheckpointSurvivesTheRestore() throws Exception {
        SamplingParams p = SamplingParams.greedy(MAX_NEW).withIgnoreEos(true);
        Map<String, GenerationResult> results = new HashMap<>();
        OperatorSubtaskState snapshot;
        try (TextTokenizer tok = TextTokenizer.load(model);
             KeyedOneInputStreamOperatorTestHarness<String, TokenizedRequest, GenerationResult> first =
                     harness(DecodeSettings.CacheCheckpoint.COMPACT)) {
            first.open();
            for (Map.Entry<String, String> e : PROMPTS.entrySet()) {
                first.processElement(request(e.getKey(), tok.encode(e.getValue()), p), 0);
            }
            decodeUntil(first, 4);
            first.processElement(TokenizedRequest.cancellation("h2", 0), 0);
            // No mail runs between the cancel and the snapshot: the engine's cancellation is not applied yet.
            snapshot = first.snapshot(1, 1);
            first.extractOutputValues().forEach(r -> results.put(r.getRequestId(), r));
        }
        assertTrue(!results.containsKey("h2"), "the cancellation had not reached the result yet");
        try (KeyedOneInputStreamOperatorTestHarness<String, TokenizedRequest, GenerationResult> second =
                     harness(DecodeSettings.CacheCheckpoint.COMPACT)) {
            second.initializeState(snapshot);
            second.open();
            second.endInput();
            for (GenerationResult r : second.extractOutputValues()) {
                assertTrue(results.put(r.getRequestId(), r) == null, "one result per request: " + r.getRequestId());
            }
        }
        assertEquals(PROMPTS.keySet(), results.keySet());
        assertEquals("CANCELLED", results.get("h2").getFinishReason().name());
        assertEquals("LENGTH", results.get("h1").getFinishReason().name());
    }
}

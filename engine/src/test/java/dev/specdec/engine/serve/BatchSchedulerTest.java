package dev.specdec.engine.serve;

import ai.djl.Device;
import dev.specdec.engine.DecoderOptions;
import dev.specdec.engine.ForwardMode;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.Finish;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.engine.tokenizer.TextTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduler on its own: requests stopped mid-generation and resumed in a fresh engine (as after a
 * restore), from committed tokens alone (re-prefill), from full-tensor snapshots, and from corrupt
 * snapshots (fallback to re-prefill), all end with the tokens of an uninterrupted run; a request the
 * model cannot serve fails alone; more requests than the batch wait their turn; deadlines and
 * cancellations end requests wherever they are.
 */
class BatchSchedulerTest {
    @TempDir
    static Path tmp;
    static Path model;
    static final SamplingParams GREEDY = SamplingParams.greedy(40).withIgnoreEos(true);
    static final SamplingParams SAMPLED = new SamplingParams(40, 0.8, 20, 0.95, 42, Set.of(), List.of(), true);

    @BeforeAll
    static void makeModel() throws Exception {
        model = TinyModel.create(tmp.resolve("model"));
    }

    private static ServeOptions options(int batch, int warmUpTokens) {
        return new ServeOptions(batch, warmUpTokens, 0, false, DecodingMethod.CTC, DecoderOptions.DEFAULTS,
                ForwardMode.COMPILED);
    }

    private static BatchScheduler scheduler() throws Exception {
        return BatchScheduler.open(model, Device.cpu(), options(4, 0));
    }

    private static List<Admit> admits(SamplingParams p) throws Exception {
        List<Admit> a = new ArrayList<>();
        try (TextTokenizer tok = TextTokenizer.load(model)) {
            int i = 0;
            for (String text : List.of("In the beginning", "The quick brown fox jumps", "And God said")) {
                a.add(Admit.of(new DecodeRequest("q" + i, tok.encode(text), p), DecodingMethod.CTC));
                i++;
            }
        }
        return a;
    }

    /** Submits the admits, then steps until nothing is live or {@code maxCalls}, collecting every request's tokens. */
    private static Map<String, int[]> drive(BatchScheduler s, List<Admit> admits, Map<String, int[]> sofar, int maxCalls) {
        admits.forEach(s::submit);
        Map<String, int[]> tokens = new HashMap<>(sofar);
        for (int call = 0; call < maxCalls && s.hasWork(); call++) {
            for (SequenceUpdate u : s.step().updates()) {
                int[] prev = tokens.getOrDefault(u.id(), new int[0]);
                int[] next = Arrays.copyOf(prev, prev.length + u.newTokens().length);
                System.arraycopy(u.newTokens(), 0, next, prev.length, u.newTokens().length);
                tokens.put(u.id(), next);
            }
        }
        return tokens;
    }

    private void resumeMatches(SamplingParams p, String mode) throws Exception {
        Map<String, int[]> full;
        try (BatchScheduler s = scheduler()) {
            full = drive(s, admits(p), Map.of(), 1000);
        }
        Map<String, int[]> partial;
        Map<String, byte[]> snaps;
        List<Admit> admits = admits(p);
        try (BatchScheduler s = scheduler()) {
            partial = drive(s, admits, Map.of(), 5);
            snaps = s.export(partial.keySet());
        }
        assertEquals(3, snaps.size());
        for (byte[] b : snaps.values()) {
            assertTrue(b.length > 1000, "a tensor snapshot holds the KV rows, got " + b.length + " bytes");
        }
        try (BatchScheduler s = scheduler()) {
            List<Resume> resumes = new ArrayList<>();
            for (Admit a : admits) {
                byte[] t = switch (mode) {
                    case "tensors" -> snaps.get(a.id());
                    case "corrupt" -> Arrays.copyOf(snaps.get(a.id()), 40);
                    default -> null;
                };
                resumes.add(new Resume(a.id(), a.request(), DecodingMethod.CTC, partial.get(a.id()), t, 0));
            }
            assertEquals(0, s.resume(resumes).updates().size());
            Map<String, int[]> resumed = drive(s, List.of(), partial, 1000);
            for (String id : full.keySet()) {
                assertArrayEquals(full.get(id), resumed.get(id), mode + ": tokens of " + id);
            }
        }
    }

    @Test
    void resumeByReprefillMatchesAnUninterruptedRun() throws Exception {
        resumeMatches(GREEDY, "compact");
        resumeMatches(SAMPLED, "compact");
    }

    @Test
    void resumeFromTensorSnapshotsMatchesAnUninterruptedRun() throws Exception {
        resumeMatches(GREEDY, "tensors");
        resumeMatches(SAMPLED, "tensors");
    }

    @Test
    void corruptSnapshotsFallBackToReprefill() throws Exception {
        resumeMatches(GREEDY, "corrupt");
    }

    @Test
    void aRequestTheModelCannotServeFailsAlone() throws Exception {
        try (BatchScheduler s = scheduler()) {
            int[] tooLong = new int[TinyModel.CONTEXT + 5];
            Arrays.fill(tooLong, 5);
            List<Admit> admits = new ArrayList<>(admits(GREEDY));
            admits.add(Admit.of(new DecodeRequest("long", tooLong, GREEDY), DecodingMethod.CTC));
            admits.add(new Admit("medusa", admits.get(0).request(), DecodingMethod.MEDUSA, 0));
            Map<String, SequenceUpdate> last = new LinkedHashMap<>();
            admits.forEach(s::submit);
            while (s.hasWork()) {
                for (SequenceUpdate u : s.step().updates()) {
                    last.put(u.id(), u);
                }
            }
            assertEquals(Finish.ERROR, last.get("long").ending().finish());
            assertTrue(last.get("long").ending().error().contains("does not fit the context"), last.get("long").ending().error());
            assertEquals(Finish.ERROR, last.get("medusa").ending().finish());
            assertTrue(last.get("medusa").ending().error().contains("drafter 'medusa' is not available"));
            for (String id : List.of("q0", "q1", "q2")) {
                assertEquals(Finish.LENGTH, last.get(id).ending().finish(), id);
            }
        }
    }

    @Test
    void requestsRunningIntoTheContextEndInABatchMatchPlainDecoding() throws Exception {
        // Long prompts and a budget beyond the context: every request ends at the context edge, where a
        // batched speculative step would pad rows past the cache's capacity.
        Map<String, String> prompts = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            prompts.put("edge" + i, String.join(" ", TinyModel.CORPUS).substring(i * 7, 150 + i * 13));
        }
        SamplingParams p = SamplingParams.greedy(400).withIgnoreEos(true);
        Map<String, int[]> expected = TinyModel.reference(model, prompts, p);
        try (BatchScheduler s = scheduler(); TextTokenizer tok = TextTokenizer.load(model)) {
            List<Admit> admits = new ArrayList<>();
            prompts.forEach((id, text) -> admits.add(Admit.of(new DecodeRequest(id, tok.encode(text), p), DecodingMethod.CTC)));
            Map<String, int[]> got = drive(s, admits, Map.of(), 1000);
            for (String id : prompts.keySet()) {
                assertArrayEquals(expected.get(id), got.get(id), id);
            }
        }
    }

    @Test
    void moreRequestsThanTheBatchWaitTheirTurnAndMatchPlainDecoding() throws Exception {
        Map<String, String> prompts = new LinkedHashMap<>();
        for (int i = 0; i < 7; i++) {
            prompts.put("w" + i, TinyModel.CORPUS.get(i % TinyModel.CORPUS.size()));
        }
        SamplingParams p = SamplingParams.greedy(24).withIgnoreEos(true);
        Map<String, int[]> expected = TinyModel.reference(model, prompts, p);
        try (BatchScheduler s = BatchScheduler.open(model, Device.cpu(), options(2, 0));
             TextTokenizer tok = TextTokenizer.load(model)) {
            prompts.forEach((id, text) -> s.submit(Admit.of(new DecodeRequest(id, tok.encode(text), p), DecodingMethod.CTC)));
            Map<String, int[]> got = new HashMap<>();
            int done = 0;
            int most = 0;
            while (s.hasWork()) {
                StepOutcome o = s.step();
                most = Math.max(most, o.batchSize());
                for (SequenceUpdate u : o.updates()) {
                    int[] prev = got.getOrDefault(u.id(), new int[0]);
                    int[] next = Arrays.copyOf(prev, prev.length + u.newTokens().length);
                    System.arraycopy(u.newTokens(), 0, next, prev.length, u.newTokens().length);
                    got.put(u.id(), next);
                    done += u.finished() ? 1 : 0;
                }
                assertEquals(7, done + o.liveRequests() + o.queuedRequests(), "every request is live, queued or done");
            }
            assertEquals(2, most, "never more than the batch size at once");
            for (String id : prompts.keySet()) {
                assertArrayEquals(expected.get(id), got.get(id), id);
            }
        }
    }

    @Test
    void warmUpLeavesNothingBehind() throws Exception {
        Map<String, int[]> cold;
        try (BatchScheduler s = BatchScheduler.open(model, Device.cpu(), options(4, 0))) {
            cold = drive(s, admits(GREEDY), Map.of(), 1000);
        }
        try (BatchScheduler s = BatchScheduler.open(model, Device.cpu(), options(4, 24))) {
            assertTrue(s.warmUp() > 0);
            assertEquals(0, s.liveCount());
            assertTrue(!s.hasWork(), "the warm-up's synthetic requests leave nothing to report");
            assertEquals(0, s.session().pool().usedBytes(), "the warm-up's caches are released");
            assertEquals(0, s.session().pool().liveCount());
            Map<String, int[]> warm = drive(s, admits(GREEDY), Map.of(), 1000);
            assertEquals(cold.keySet(), warm.keySet());
            for (String id : cold.keySet()) {
                assertArrayEquals(cold.get(id), warm.get(id), id);
            }
        }
    }

    @Test
    void cancellationEndsARequestWithItsPartialOutput() throws Exception {
        try (BatchScheduler s = scheduler()) {
            admits(GREEDY).forEach(s::submit);
            s.step();
            s.step();
            s.cancel("q1", "cancelled by the client");
            StepOutcome o = s.step();
            SequenceUpdate q1 = o.updates().stream().filter(u -> u.id().equals("q1")).findFirst().orElseThrow();
            assertEquals(Finish.CANCELLED, q1.ending().finish());
            assertEquals("cancelled by the client", q1.ending().error());
            assertEquals(2, s.liveCount());
        }
    }

    @Test
    void deadlinesEndWaitingAndLiveRequests() throws Exception {
        try (BatchScheduler s = BatchScheduler.open(model, Device.cpu(), options(1, 0))) {
            List<Admit> admits = admits(GREEDY);
            long past = WallClock.micros() - 1;
            s.submit(admits.get(0));
            s.step();
            s.submit(new Admit("late", admits.get(1).request(), DecodingMethod.CTC, past));
            s.cancel("nobody", "unknown ids are ignored");
            SequenceUpdate late = s.step().updates().stream().filter(u -> u.id().equals("late")).findFirst().orElseThrow();
            assertEquals(Finish.CANCELLED, late.ending().finish());
            assertEquals("deadline exceeded", late.ending().error());
            assertEquals(1, s.liveCount());
        }
    }
}

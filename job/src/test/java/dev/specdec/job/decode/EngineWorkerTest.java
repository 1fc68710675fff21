package dev.specdec.job.decode;

import dev.specdec.engine.generate.FinishReason;
import dev.specdec.engine.generate.GenerationRequest;
import dev.specdec.engine.generate.SamplingParams;
import dev.specdec.job.TinyModel;
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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine side of the decode operator on its own: requests stopped mid-generation and resumed
 * in a fresh engine (as after a restore), from committed tokens alone (re-prefill), from full-tensor
 * snapshots, and from corrupt snapshots (fallback to re-prefill), all end with the tokens of an
 * uninterrupted run; a request the model cannot serve fails alone.
 */
class EngineWorkerTest {
    @TempDir
    static Path tmp;
    static Path model;
    static final SamplingParams GREEDY = SamplingParams.greedy(40).withIgnoreEos(true);
    static final SamplingParams SAMPLED = new SamplingParams(40, 0.8, 20, 0.95, 42, java.util.Set.of(), List.of(), true);

    @BeforeAll
    static void makeModel() throws Exception {
        model = TinyModel.create(tmp.resolve("model"));
    }

    private static EngineWorker worker() throws Exception {
        return EngineWorker.open(DecodeSettings.builder().model(model.toString()).maxBatch(4).build(), ai.djl.Device.cpu());
    }

    private static List<EngineWorker.Admit> admits(EngineWorker w, SamplingParams p) throws Exception {
        List<EngineWorker.Admit> a = new ArrayList<>();
        int i = 0;
        for (String text : List.of("In the beginning", "The quick brown fox jumps", "And God said")) {
            int[] ids = dev.specdec.engine.tokenizer.TextTokenizer.load(model).encode(text);
            a.add(new EngineWorker.Admit("q" + i, new GenerationRequest("q" + i, ids, p), "ctc"));
            i++;
        }
        return a;
    }

    /** Runs to completion, collecting every request's tokens from the updates. */
    private static Map<String, int[]> drive(EngineWorker w, List<EngineWorker.Admit> admits, Map<String, int[]> sofar,
                                            int maxCalls) {
        Map<String, int[]> tokens = new HashMap<>(sofar);
        List<EngineWorker.Admit> first = admits;
        for (int call = 0; call < maxCalls && (call == 0 || w.activeCount() > 0); call++) {
            StepOutcome o = w.step(List.of(), first);
            first = List.of();
            for (SequenceUpdate u : o.updates()) {
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
        try (EngineWorker w = worker()) {
            full = drive(w, admits(w, p), Map.of(), 1000);
        }
        Map<String, int[]> partial;
        Map<String, byte[]> snaps;
        List<EngineWorker.Admit> admits;
        try (EngineWorker w = worker()) {
            admits = admits(w, p);
            partial = drive(w, admits, Map.of(), 5);
            snaps = w.export(partial.keySet());
        }
        assertEquals(3, snaps.size());
        for (byte[] b : snaps.values()) {
            assertTrue(b.length > 1000, "a tensor snapshot holds the KV rows, got " + b.length + " bytes");
        }
        try (EngineWorker w = worker()) {
            List<EngineWorker.Resume> resumes = new ArrayList<>();
            for (EngineWorker.Admit a : admits) {
                byte[] t = switch (mode) {
                    case "tensors" -> snaps.get(a.id());
                    case "corrupt" -> Arrays.copyOf(snaps.get(a.id()), 40);
                    default -> null;
                };
                resumes.add(new EngineWorker.Resume(a.id(), a.request(), "ctc", partial.get(a.id()), t));
            }
            assertEquals(0, w.resume(resumes).updates().size());
            Map<String, int[]> resumed = drive(w, List.of(), partial, 1000);
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
        try (EngineWorker w = worker()) {
            int[] tooLong = new int[TinyModel.CONTEXT + 5];
            Arrays.fill(tooLong, 5);
            List<EngineWorker.Admit> admits = new ArrayList<>(admits(w, GREEDY));
            admits.add(new EngineWorker.Admit("long", new GenerationRequest("long", tooLong, GREEDY), "ctc"));
            admits.add(new EngineWorker.Admit("medusa", admits.get(0).request(), "medusa"));
            Map<String, SequenceUpdate> last = new LinkedHashMap<>();
            List<EngineWorker.Admit> first = admits;
            for (int call = 0; call < 1000 && (call == 0 || w.activeCount() > 0); call++) {
                for (SequenceUpdate u : w.step(List.of(), first).updates()) {
                    last.put(u.id(), u);
                }
                first = List.of();
            }
            assertEquals(FinishReason.ERROR, last.get("long").finish());
            assertTrue(last.get("long").error().contains("does not fit the context"), last.get("long").error());
            assertEquals(FinishReason.ERROR, last.get("medusa").finish());
            assertTrue(last.get("medusa").error().contains("drafter 'medusa' is not available"));
            for (String id : List.of("q0", "q1", "q2")) {
                assertEquals(FinishReason.LENGTH, last.get(id).finish(), id);
            }
        }
    }

    @Test
    void requestsRunningIntoTheContextEndInABatchMatchPlainDecoding() throws Exception {
        // Long prompts and a budget beyond the context: every request ends at the context edge, where a
        // batched speculative step would pad rows past the cache's capacity.
        java.util.Map<String, String> prompts = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            prompts.put("edge" + i, String.join(" ", TinyModel.CORPUS).substring(i * 7, 150 + i * 13));
        }
        SamplingParams p = SamplingParams.greedy(400).withIgnoreEos(true);
        Map<String, int[]> expected = TinyModel.reference(model, prompts, p);
        try (EngineWorker w = worker()) {
            dev.specdec.engine.tokenizer.TextTokenizer tok = dev.specdec.engine.tokenizer.TextTokenizer.load(model);
            List<EngineWorker.Admit> admits = new ArrayList<>();
            prompts.forEach((id, text) -> admits.add(new EngineWorker.Admit(id, new GenerationRequest(id, tok.encode(text), p), "ctc")));
            Map<String, int[]> got = drive(w, admits, Map.of(), 1000);
            for (String id : prompts.keySet()) {
                assertArrayEquals(expected.get(id), got.get(id), id);
            }
        }
    }

    @Test
    void warmUpLeavesNothingBehind() throws Exception {
        Map<String, int[]> cold;
        try (EngineWorker w = EngineWorker.open(DecodeSettings.builder().model(model.toString()).maxBatch(4)
                .warmUpTokens(0).build(), ai.djl.Device.cpu())) {
            cold = drive(w, admits(w, GREEDY), Map.of(), 1000);
        }
        try (EngineWorker w = EngineWorker.open(DecodeSettings.builder().model(model.toString()).maxBatch(4)
                .warmUpTokens(24).build(), ai.djl.Device.cpu())) {
            assertEquals(0, w.activeCount());
            StepOutcome idle = w.step(List.of(), List.of());
            assertEquals(0, idle.updates().size(), "the warm-up's synthetic requests report nothing");
            assertEquals(0, idle.kvUsedBytes(), "the warm-up's caches are released");
            Map<String, int[]> warm = drive(w, admits(w, GREEDY), Map.of(), 1000);
            assertEquals(cold.keySet(), warm.keySet());
            for (String id : cold.keySet()) {
                assertArrayEquals(cold.get(id), warm.get(id), id);
            }
        }
    }

    @Test
    void cancellationEndsARequestWithItsPartialOutput() throws Exception {
        try (EngineWorker w = worker()) {
            List<EngineWorker.Admit> admits = admits(w, GREEDY);
            w.step(List.of(), admits);
            w.step(List.of(), List.of());
            StepOutcome o = w.step(List.of(new EngineWorker.Cancel("q1", "cancelled by the client")), List.of());
            SequenceUpdate q1 = o.updates().stream().filter(u -> u.id().equals("q1")).findFirst().orElseThrow();
            assertEquals(FinishReason.CANCELLED, q1.finish());
            assertEquals("cancelled by the client", q1.error());
            assertEquals(2, w.activeCount());
        }
    }
}

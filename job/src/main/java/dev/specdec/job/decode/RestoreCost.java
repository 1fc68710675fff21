package dev.specdec.job.decode;

import ai.djl.Device;
import dev.specdec.engine.generate.GenerationRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What resuming a batch of half-decoded requests costs in each checkpoint form: decode them for a
 * while, export their caches, then rebuild them in a fresh engine by re-prefill (compact form) and
 * by importing the exported tensors (full-tensor form). For {@code specdec bench-job}.
 */
public final class RestoreCost {
    /**
     * @param reprefillMillis time to rebuild all caches from committed tokens
     * @param importMillis    time to import the tensor snapshots
     * @param snapshotBytes   size of all tensor snapshots together (uncompressed)
     * @param tokensPerRequest committed tokens (prompt + generated) per request, on average
     */
    public record Result(double reprefillMillis, double importMillis, long snapshotBytes, double tokensPerRequest) {
    }

    private RestoreCost() {
    }

    /**
     * Decodes {@code requests} until each has at least {@code tokensBeforeExport} tokens (counted in
     * tokens, not steps: a good drafter emits several per step), then times both ways of restoring.
     */
    public static Result measure(DecodeSettings settings, List<GenerationRequest> requests, int tokensBeforeExport)
            throws Exception {
        List<EngineWorker.Admit> admits = new ArrayList<>();
        for (GenerationRequest r : requests) {
            admits.add(new EngineWorker.Admit(r.id(), r, settings.defaultDrafter()));
        }
        Map<String, int[]> tokens = new java.util.HashMap<>();
        Map<String, byte[]> snaps;
        try (EngineWorker w = EngineWorker.open(settings, Device.cpu())) {
            collect(w.step(List.of(), admits), tokens);
            // Bounded by the token count: every step emits at least one token per active request.
            for (int i = 1; i < tokensBeforeExport && w.activeCount() > 0 && leastDecoded(tokens) < tokensBeforeExport; i++) {
                collect(w.step(List.of(), List.of()), tokens);
            }
            snaps = w.export(tokens.keySet());
        }
        List<EngineWorker.Resume> reprefill = new ArrayList<>();
        List<EngineWorker.Resume> imported = new ArrayList<>();
        long bytes = 0;
        long committed = 0;
        for (GenerationRequest r : requests) {
            byte[] snap = snaps.get(r.id());
            if (snap == null) {
                continue;  // finished before the export
            }
            int[] t = tokens.get(r.id());
            reprefill.add(new EngineWorker.Resume(r.id(), r, settings.defaultDrafter(), t, null));
            imported.add(new EngineWorker.Resume(r.id(), r, settings.defaultDrafter(), t, snap));
            bytes += snap.length;
            committed += r.promptIds().length + t.length;
        }
        if (reprefill.isEmpty()) {
            throw new IllegalArgumentException("every request finished within " + tokensBeforeExport
                    + " tokens: nothing to restore");
        }
        return new Result(timeResume(settings, reprefill), timeResume(settings, imported), bytes,
                (double) committed / reprefill.size());
    }

    private static int leastDecoded(Map<String, int[]> tokens) {
        return tokens.values().stream().mapToInt(t -> t.length).min().orElse(0);
    }

    private static void collect(StepOutcome o, Map<String, int[]> tokens) {
        for (SequenceUpdate u : o.updates()) {
            int[] prev = tokens.getOrDefault(u.id(), new int[0]);
            int[] next = java.util.Arrays.copyOf(prev, prev.length + u.newTokens().length);
            System.arraycopy(u.newTokens(), 0, next, prev.length, u.newTokens().length);
            if (u.finished()) {
                tokens.remove(u.id());
            } else {
                tokens.put(u.id(), next);
            }
        }
    }

    private static double timeResume(DecodeSettings settings, List<EngineWorker.Resume> resumes) throws Exception {
        try (EngineWorker w = EngineWorker.open(settings, Device.cpu())) {
            // Warm up the new engine on one request so the timing is the restore, not the first call.
            EngineWorker.Resume first = resumes.get(0);
            w.resume(List.of(new EngineWorker.Resume("warm-up", first.request(), first.drafter(), first.tokens(), null)));
            long t0 = System.nanoTime();
            StepOutcome o = w.resume(resumes);
            double ms = (System.nanoTime() - t0) / 1e6;
            if (!o.updates().isEmpty()) {
                throw new IllegalStateException("restore failed: " + o.updates().get(0).error());
            }
            return ms;
        }
    }
}

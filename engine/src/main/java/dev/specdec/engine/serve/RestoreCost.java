package dev.specdec.engine.serve;

import ai.djl.Device;
import dev.specdec.engine.request.DecodeRequest;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What resuming a batch of half-decoded requests costs in each checkpoint form: decode them for a
 * while, export their caches, then rebuild them in a fresh engine by re-prefill (compact form) and
 * by importing the exported tensors (full-tensor form). For {@code specdec bench-job}.
 */
public final class RestoreCost {
    /**
     * @param reprefillMillis  time to rebuild all caches from committed tokens
     * @param importMillis     time to import the tensor snapshots
     * @param snapshotBytes    size of all tensor snapshots together (uncompressed)
     * @param tokensPerRequest committed tokens (prompt + generated) per request, on average
     */
    public record Result(double reprefillMillis, double importMillis, long snapshotBytes, double tokensPerRequest) {
    }

    private RestoreCost() {
    }

    /**
     * Decodes {@code requests} with the options' default method until each has at least
     * {@code tokensBeforeExport} tokens (counted in tokens, not steps: a good drafter emits several per
     * step), then times both ways of restoring.
     */
    public static Result measure(Path modelDir, ServeOptions options, List<DecodeRequest> requests,
                                 int tokensBeforeExport) throws Exception {
        Map<String, int[]> tokens = new HashMap<>();
        Map<String, byte[]> snaps;
        try (BatchScheduler s = BatchScheduler.open(modelDir, Device.cpu(), options)) {
            requests.forEach(r -> s.submit(Admit.of(r, options.defaultMethod())));
            do {
                collect(s.step(), tokens);
            } while (s.liveCount() > 0 && leastDecoded(tokens) < tokensBeforeExport);
            snaps = s.export(tokens.keySet());
        }
        List<Resume> reprefill = new ArrayList<>();
        List<Resume> imported = new ArrayList<>();
        long bytes = 0;
        long committed = 0;
        for (DecodeRequest r : requests) {
            byte[] snap = snaps.get(r.id());
            if (snap == null) {
                continue;  // finished before the export
            }
            int[] t = tokens.get(r.id());
            reprefill.add(new Resume(r.id(), r, options.defaultMethod(), t, null, 0));
            imported.add(new Resume(r.id(), r, options.defaultMethod(), t, snap, 0));
            bytes += snap.length;
            committed += r.promptIds().length + t.length;
        }
        if (reprefill.isEmpty()) {
            throw new IllegalArgumentException("every request finished within " + tokensBeforeExport
                    + " tokens: nothing to restore");
        }
        return new Result(timeResume(modelDir, options, reprefill), timeResume(modelDir, options, imported), bytes,
                (double) committed / reprefill.size());
    }

    private static int leastDecoded(Map<String, int[]> tokens) {
        return tokens.values().stream().mapToInt(t -> t.length).min().orElse(0);
    }

    private static void collect(StepOutcome o, Map<String, int[]> tokens) {
        for (SequenceUpdate u : o.updates()) {
            int[] prev = tokens.getOrDefault(u.id(), new int[0]);
            int[] next = Arrays.copyOf(prev, prev.length + u.newTokens().length);
            System.arraycopy(u.newTokens(), 0, next, prev.length, u.newTokens().length);
            if (u.finished()) {
                tokens.remove(u.id());
            } else {
                tokens.put(u.id(), next);
            }
        }
    }

    private static double timeResume(Path modelDir, ServeOptions options, List<Resume> resumes) throws Exception {
        try (BatchScheduler s = BatchScheduler.open(modelDir, Device.cpu(), options)) {
            // Warm up the new engine on one request so the timing is the restore, not the first call.
            Resume first = resumes.get(0);
            s.resume(List.of(new Resume("warm-up", first.request(), first.method(), first.tokens(), null, 0)));
            long t0 = System.nanoTime();
            StepOutcome o = s.resume(resumes);
            double ms = (System.nanoTime() - t0) / 1e6;
            if (!o.updates().isEmpty()) {
                throw new IllegalStateException("restore failed: " + o.updates().get(0).ending().error());
            }
            return ms;
        }
    }
}

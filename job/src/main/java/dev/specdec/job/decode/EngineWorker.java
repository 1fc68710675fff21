package dev.specdec.job.decode;

import ai.djl.Device;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.generate.DecodeStats;
import dev.specdec.engine.generate.Decoder;
import dev.specdec.engine.generate.FinishReason;
import dev.specdec.engine.generate.GenerationRequest;
import dev.specdec.engine.generate.Generator;
import dev.specdec.engine.generate.InvalidRequestException;
import dev.specdec.engine.generate.SequenceState;
import dev.specdec.engine.spec.SpeculativeDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The engine side of the decode operator: one model session with its decoders and every request
 * being decoded, used only from the operator's engine thread (the engine is not thread-safe). Each
 * call takes plain values and returns plain values ({@link StepOutcome}); nothing it owns is ever
 * read by another thread.
 *
 * <p>A call never lets one bad request take down the others: requests the model cannot serve, a
 * drafter that cannot be loaded, or a failing decoder call end the requests concerned with an error
 * and decoding goes on. Only a model that cannot be loaded at all fails (in {@link #open}).
 */
final class EngineWorker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EngineWorker.class);

    /** A request to start decoding. */
    record Admit(String id, GenerationRequest request, String drafter) {
    }

    /** A request to resume after a restore: its committed tokens and, in full-tensor mode, its caches. */
    record Resume(String id, GenerationRequest request, String drafter, int[] tokens, byte[] tensors) {
    }

    /** Stop a request being decoded; {@code reason} becomes its result's error text. */
    record Cancel(String id, String reason) {
    }

    /** One request in the engine, with what was last reported about it. */
    private static final class Live {
        final String id;
        final String drafter;
        SequenceState seq;
        DecodeStats reported = new DecodeStats();
        int reportedTokens;
        long startedMicros;
        boolean firstTokenReported;
        /** Streaming: the text shown so far (a prefix of the decoded tokens' text). */
        String shownText = "";

        Live(String id, String drafter, SequenceState seq) {
            this.id = id;
            this.drafter = drafter;
            this.seq = seq;
        }
    }

    private final EngineSession session;
    private final DecodeSettings settings;
    private final Map<String, Decoder> decoders = new HashMap<>();
    private final Map<String, String> decoderErrors = new HashMap<>();
    private final Map<String, Live> live = new LinkedHashMap<>();

    private EngineWorker(EngineSession session, DecodeSettings settings) {
        this.session = session;
        this.settings = settings;
    }

    /**
     * Loads the model and the default decoder (so a missing default drafter fails the job at start),
     * then warms the engine up ({@link DecodeSettings#warmUpTokens()}).
     */
    static EngineWorker open(DecodeSettings settings, Device device) throws IOException {
        EngineSession session = EngineSession.open(Path.of(settings.modelDir()), device, settings.maxBatch());
        EngineWorker w = new EngineWorker(session, settings);
        try {
            Decoder d = session.decoder(settings.defaultDrafter(), settings.decoderOptions(settings.defaultDrafter()));
            w.decoders.put(settings.defaultDrafter(), d);
            w.warmUp(d);
        } catch (IOException | RuntimeException e) {
            session.close();
            throw e;
        }
        return w;
    }

    /** The warm-up only saves time: if it fails, the first requests pay for a cold engine instead. */
    private void warmUp(Decoder d) {
        try {
            double ms = session.generator(d).warmUp(settings.maxBatch(), settings.warmUpTokens());
            if (ms > 0) {
                LOG.info("engine warmed up in {} ms ({} synthetic requests, {} tokens each)", Math.round(ms),
                        settings.maxBatch(), settings.warmUpTokens());
            }
        } catch (RuntimeException e) {
            LOG.warn("engine warm-up failed; decoding starts cold", e);
        }
    }

    int activeCount() {
        return live.size();
    }

    boolean isLive(String id) {
        return live.containsKey(id);
    }

    /** Cancels, admits (prefill), then advances every request by one decoding step. */
    StepOutcome step(List<Cancel> cancels, List<Admit> admits) {
        long t0 = System.nanoTime();
        List<SequenceUpdate> updates = new ArrayList<>();
        for (Cancel c : cancels) {
            Live l = live.remove(c.id());
            if (l != null) {
                decoderOf(l).release(l.seq);
                l.seq.fail(FinishReason.CANCELLED, c.reason());
                updates.add(report(l));
            }
        }
        admit(admits, updates);
        // Requests that ended on their first token leave before the step, so the caches of the
        // step's batch stay one contiguous block of the pool.
        retireFinished(updates);
        Map<String, List<Live>> groups = unfinishedByDrafter();
        int batch = 0;
        for (Map.Entry<String, List<Live>> g : groups.entrySet()) {
            batch += g.getValue().size();
            stepGroup(decoders.get(g.getKey()), g.getValue());
        }
        retireFinished(updates);
        for (Live l : live.values()) {
            updates.add(report(l));
        }
        return outcome(updates, t0, batch);
    }

    /** Reports and releases finished requests, highest cache slot first (the pool then moves fewer caches). */
    private void retireFinished(List<SequenceUpdate> updates) {
        List<Live> done = new ArrayList<>();
        for (Live l : live.values()) {
            if (l.seq.isFinished()) {
                done.add(l);
            }
        }
        done.sort(java.util.Comparator.comparingInt((Live l) -> l.seq.cache == null ? -1 : l.seq.cache.slot()).reversed());
        for (Live l : done) {
            updates.add(report(l));
            decoderOf(l).release(l.seq);
            live.remove(l.id);
        }
    }

    /** Rebuilds restored requests' caches: imported from tensors where given, else by re-prefill. */
    StepOutcome resume(List<Resume> resumes) {
        long t0 = System.nanoTime();
        List<SequenceUpdate> updates = new ArrayList<>();
        Map<String, List<Resume>> byDrafter = new LinkedHashMap<>();
        resumes.forEach(r -> byDrafter.computeIfAbsent(r.drafter(), k -> new ArrayList<>()).add(r));
        for (Map.Entry<String, List<Resume>> g : byDrafter.entrySet()) {
            Decoder d = decoder(g.getKey());
            if (d == null) {
                g.getValue().forEach(r -> updates.add(SequenceUpdate.failed(r.id(), FinishReason.ERROR,
                        decoderErrors.get(g.getKey()))));
                continue;
            }
            Generator gen = session.generator(d);
            List<Live> imported = new ArrayList<>();
            List<byte[]> snapshots = new ArrayList<>();
            List<Live> reprefill = new ArrayList<>();
            for (Resume r : g.getValue()) {
                SequenceState s = gen.newSequence(r.request());
                s.restoreGenerated(r.tokens());
                Live l = new Live(r.id(), r.drafter(), s);
                l.reportedTokens = r.tokens().length;
                l.firstTokenReported = true;
                if (settings.streamChunks()) {
                    // What the chunks before the restore showed: a function of the committed tokens.
                    l.shownText = shownPrefix(s);
                }
                if (r.tensors() != null) {
                    imported.add(l);
                    snapshots.add(r.tensors());
                } else {
                    reprefill.add(l);
                }
            }
            if (!imported.isEmpty()) {
                try {
                    d.importCaches(states(imported), snapshots);
                } catch (IOException | RuntimeException e) {
                    LOG.warn("cache snapshots of {} requests could not be imported ({}); re-prefilling them",
                            imported.size(), e.toString());
                    imported.forEach(l -> d.release(l.seq));
                    reprefill.addAll(imported);
                    imported.clear();
                }
            }
            try {
                d.restore(states(reprefill));
            } catch (RuntimeException e) {
                LOG.error("re-prefill of {} restored requests failed", reprefill.size(), e);
                reprefill.forEach(l -> {
                    d.release(l.seq);
                    updates.add(SequenceUpdate.failed(l.id, FinishReason.ERROR, "restore failed: " + e));
                });
                reprefill.clear();
            }
            LOG.info("resumed {} requests with drafter {}: {} from cache snapshots, {} by re-prefill",
                    imported.size() + reprefill.size(), g.getKey(), imported.size(), reprefill.size());
            imported.forEach(l -> live.put(l.id, l));
            reprefill.forEach(l -> live.put(l.id, l));
        }
        return outcome(updates, t0, 0);
    }

    /** Full-tensor snapshots of the named requests' caches (those still decoding). */
    Map<String, byte[]> export(Collection<String> ids) throws IOException {
        Map<String, byte[]> out = new HashMap<>();
        for (String id : ids) {
            Live l = live.get(id);
            if (l != null && !l.seq.isFinished() && l.seq.cache != null) {
                out.put(id, decoderOf(l).exportCaches(l.seq));
            }
        }
        return out;
    }

    private void admit(List<Admit> admits, List<SequenceUpdate> updates) {
        Map<String, List<Admit>> byDrafter = new LinkedHashMap<>();
        for (Admit a : admits) {
            byDrafter.computeIfAbsent(a.drafter(), k -> new ArrayList<>()).add(a);
        }
        for (Map.Entry<String, List<Admit>> g : byDrafter.entrySet()) {
            Decoder d = decoder(g.getKey());
            if (d == null) {
                g.getValue().forEach(a -> updates.add(SequenceUpdate.failed(a.id(), FinishReason.ERROR,
                        decoderErrors.get(g.getKey()))));
                continue;
            }
            Generator gen = session.generator(d);
            List<Live> fresh = new ArrayList<>();
            for (Admit a : g.getValue()) {
                try {
                    Generator.validate(session.model(), a.request());
                    fresh.add(new Live(a.id(), a.drafter(), gen.newSequence(a.request())));
                } catch (InvalidRequestException e) {
                    updates.add(SequenceUpdate.failed(a.id(), FinishReason.ERROR, e.getMessage()));
                }
            }
            if (fresh.isEmpty()) {
                continue;
            }
            long started = WallClock.micros();
            try {
                d.prefill(states(fresh));
            } catch (RuntimeException e) {
                LOG.error("prefill of {} requests failed", fresh.size(), e);
                fresh.forEach(l -> {
                    d.release(l.seq);
                    updates.add(SequenceUpdate.failed(l.id, FinishReason.ERROR, "prefill failed: " + e));
                });
                continue;
            }
            for (Live l : fresh) {
                l.startedMicros = started;
                live.put(l.id, l);
            }
        }
    }

    /** What changed for a request since its last report. */
    private SequenceUpdate report(Live l) {
        SequenceState s = l.seq;
        int count = s.generatedCount();
        int[] fresh = new int[count - l.reportedTokens];
        for (int i = 0; i < fresh.length; i++) {
            fresh[i] = s.generatedAt(l.reportedTokens + i);
        }
        l.reportedTokens = count;
        DecodeStats now = s.stats;
        DecodeStats before = l.reported;
        long firstToken = 0;
        if (!l.firstTokenReported && count > 0) {
            l.firstTokenReported = true;
            firstToken = WallClock.micros() - (System.nanoTime() - s.firstTokenNanos) / 1000;
        }
        long started = l.startedMicros;
        l.startedMicros = 0;
        String finalText = s.isFinished() ? s.text() : null;
        int textOffset = 0;
        String textDelta = "";
        if (settings.streamChunks() && (fresh.length > 0 || finalText != null)) {
            textOffset = StreamedText.codePoints(l.shownText);
            String shown = finalText != null ? finalText : shownPrefix(s);
            textDelta = StreamedText.delta(l.shownText, shown);
            l.shownText += textDelta;
        }
        SequenceUpdate u = new SequenceUpdate(l.id, fresh, now.steps - before.steps, now.stepTokens - before.stepTokens,
                now.acceptedDraftTokens - before.acceptedDraftTokens, now.draftNanos - before.draftNanos,
                now.verifyNanos - before.verifyNanos, now.prefillNanos - before.prefillNanos, started, firstToken,
                s.cache == null ? 0 : s.cache.length(), s.finishReason(), s.error(), finalText, textOffset, textDelta);
        before.steps = now.steps;
        before.stepTokens = now.stepTokens;
        before.acceptedDraftTokens = now.acceptedDraftTokens;
        before.draftNanos = now.draftNanos;
        before.verifyNanos = now.verifyNanos;
        before.prefillNanos = now.prefillNanos;
        return u;
    }

    /** The final part of a decoding request's text so far ({@link StreamedText#stableLength}). */
    private static String shownPrefix(SequenceState s) {
        String text = s.text();
        return text.substring(0, StreamedText.stableLength(text, s.request.params().stopStrings()));
    }

    private StepOutcome outcome(List<SequenceUpdate> updates, long t0, int batch) {
        return new StepOutcome(updates, System.nanoTime() - t0, batch, session.pool().usedBytes(),
                session.pool().allocatedBytes(), live.size(), 0);
    }

    private Map<String, List<Live>> unfinishedByDrafter() {
        Map<String, List<Live>> groups = new LinkedHashMap<>();
        for (Live l : live.values()) {
            if (!l.seq.isFinished()) {
                groups.computeIfAbsent(l.drafter, k -> new ArrayList<>()).add(l);
            }
        }
        return groups;
    }

    /**
     * One decoding step for a drafter's requests. Requests so close to the end of the context that
     * the rows a batched step pads every sequence to would not fit step on their own (the engine's
     * batched forward needs room for the padding too).
     */
    private void stepGroup(Decoder d, List<Live> group) {
        int padding = d instanceof SpeculativeDecoder s ? s.policy().nodeBudget() + 1 : 1;
        int context = session.model().config.maxPositions;
        List<Live> batched = new ArrayList<>();
        List<Live> alone = new ArrayList<>();
        for (Live l : group) {
            (group.size() > 1 && l.seq.totalLength() + padding > context ? alone : batched).add(l);
        }
        if (!batched.isEmpty()) {
            runStep(d, batched);
        }
        for (Live l : alone) {
            runStep(d, List.of(l));
        }
    }

    /**
     * Runs a step; if it fails for a batch, rebuilds each request's caches from its committed tokens
     * and steps it alone, so a failure ends only the requests that fail on their own.
     */
    private void runStep(Decoder d, List<Live> ls) {
        try {
            d.step(states(ls));
            return;
        } catch (RuntimeException e) {
            if (ls.size() == 1) {
                LOG.error("decoding step of request {} failed", ls.get(0).id, e);
                fail(ls, "decoding failed: " + e);
                return;
            }
            LOG.warn("decoding step of {} requests failed ({}); retrying them one by one", ls.size(), e.toString());
        }
        for (Live l : ls) {
            try {
                rebuild(d, l);
                if (!l.seq.isFinished()) {
                    d.step(List.of(l.seq));
                }
            } catch (RuntimeException e) {
                LOG.error("decoding step of request {} failed", l.id, e);
                fail(List.of(l), "decoding failed: " + e);
            }
        }
    }

    /** Replaces a request's sequence by one rebuilt from its committed (reported) tokens. */
    private void rebuild(Decoder d, Live l) {
        d.release(l.seq);
        SequenceState fresh = session.generator(d).newSequence(l.seq.request);
        int[] committed = java.util.Arrays.copyOf(l.seq.generated(), l.reportedTokens);
        l.seq = fresh;
        l.reported = new DecodeStats();
        if (committed.length == 0) {
            d.prefill(List.of(fresh));
        } else {
            fresh.restoreGenerated(committed);
            d.restore(List.of(fresh));
        }
    }

    private void fail(List<Live> group, String message) {
        for (Live l : group) {
            if (!l.seq.isFinished()) {
                l.seq.fail(FinishReason.ERROR, message);
            }
        }
    }

    private static List<SequenceState> states(List<Live> ls) {
        List<SequenceState> out = new ArrayList<>(ls.size());
        ls.forEach(l -> out.add(l.seq));
        return out;
    }

    private Decoder decoderOf(Live l) {
        return decoders.get(l.drafter);
    }

    /** The decoder by name, loading its drafter on first use; null (with the reason kept) if it cannot be loaded. */
    private Decoder decoder(String name) {
        Decoder d = decoders.get(name);
        if (d != null || decoderErrors.containsKey(name)) {
            return d;
        }
        try {
            d = session.decoder(name, settings.decoderOptions(name));
            decoders.put(name, d);
            return d;
        } catch (IOException | RuntimeException e) {
            String msg = "drafter '" + name + "' is not available: " + e.getMessage();
            LOG.warn(msg);
            decoderErrors.put(name, msg);
            return null;
        }
    }

    @Override
    public void close() {
        for (Live l : live.values()) {
            decoderOf(l).release(l.seq);
        }
        live.clear();
        decoders.values().forEach(Decoder::close);
        decoders.clear();
        session.close();
    }
}

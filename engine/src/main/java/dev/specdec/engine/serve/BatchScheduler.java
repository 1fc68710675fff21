package dev.specdec.engine.serve;

import ai.djl.Device;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.Finish;
import dev.specdec.engine.request.InvalidRequestException;
import dev.specdec.engine.request.SamplingParams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The engine's one scheduler: every command that decodes (generate, bench, the Flink job) hands its
 * requests to it. Requests wait in arrival order until the batch has room, are prefilled, and are
 * then advanced together, one {@link #step} at a time, each by its method's decoder (continuous
 * batching: finished requests leave and waiting ones join between steps). Deadlines and
 * cancellations take effect at step boundaries. Every step reports what changed for each request
 * ({@link StepOutcome}), so the caller never reads engine objects.
 *
 * <p>One bad request never takes down the others: a request the model cannot serve, a drafter that
 * cannot be loaded, or a failing step end only the requests concerned ({@link StepRunner}). Not
 * thread-safe: one thread drives a scheduler ({@link EngineThread} for a server).
 */
public final class BatchScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BatchScheduler.class);

    private final EngineSession session;
    private final boolean ownsSession;
    private final ServeOptions options;
    private final Decoders decoders;
    private final StepRunner runner;
    private final Map<String, LiveRequest> live = new LinkedHashMap<>();
    private final ArrayDeque<Admit> waiting = new ArrayDeque<>();
    private final Map<String, String> cancels = new LinkedHashMap<>();
    private final List<SequenceUpdate> pending = new ArrayList<>();

    private BatchScheduler(EngineSession session, boolean ownsSession, ServeOptions options, Decoders decoders) {
        this.session = session;
        this.ownsSession = ownsSession;
        this.options = options;
        this.decoders = decoders;
        this.runner = new StepRunner(session, decoders);
    }

    /**
     * Loads the model and the default method's decoder (so a missing default drafter fails here, at
     * start, not per request). The scheduler owns the session.
     */
    public static BatchScheduler open(Path modelDir, Device device, ServeOptions options) throws IOException {
        EngineSession session = EngineSession.open(modelDir, device, options.maxBatch(), options.forward());
        try {
            return start(session, true, options);
        } catch (IOException | RuntimeException e) {
            session.close();
            throw e;
        }
    }

    /** A scheduler over a session its caller keeps; decoders load from it by method. */
    public static BatchScheduler over(EngineSession session, ServeOptions options) throws IOException {
        return start(session, false, options);
    }

    /** A scheduler that decodes every request with one given decoder (the caller keeps both). */
    public static BatchScheduler over(EngineSession session, Decoder decoder) {
        return over(session, decoder, session.maxBatch());
    }

    /** As {@link #over(EngineSession, Decoder)}, with at most {@code maxBatch} requests per step. */
    public static BatchScheduler over(EngineSession session, Decoder decoder, int maxBatch) {
        return new BatchScheduler(session, false, ServeOptions.forBatch(maxBatch, decoder.method()), new Decoders(decoder));
    }

    private static BatchScheduler start(EngineSession session, boolean owns, ServeOptions options) throws IOException {
        Decoders decoders = new Decoders(session, options);
        try {
            decoders.require(options.defaultMethod());
        } catch (IOException | RuntimeException e) {
            decoders.close();
            throw e;
        }
        return new BatchScheduler(session, owns, options, decoders);
    }

    public EngineSession session() {
        return session;
    }

    public ServeOptions options() {
        return options;
    }

    /** Queues a request; it joins the batch at a later step. */
    public void submit(Admit a) {
        waiting.add(a);
    }

    /** Ends a request at the next step, with {@code reason} as its error text; unknown ids are ignored. */
    public void cancel(String id, String reason) {
        for (Iterator<Admit> it = waiting.iterator(); it.hasNext(); ) {
            if (it.next().id().equals(id)) {
                it.remove();
                pending.add(SequenceUpdate.failed(id, Finish.CANCELLED, reason));
                return;
            }
        }
        if (live.containsKey(id)) {
            cancels.put(id, reason);
        }
    }

    /** Whether a {@link #step} has anything to do or to report. */
    public boolean hasWork() {
        return !live.isEmpty() || !waiting.isEmpty() || !pending.isEmpty();
    }

    public int liveCount() {
        return live.size();
    }

    public int waitingCount() {
        return waiting.size();
    }

    /** One scheduling round: deadlines, cancellations, admissions (prefill), one decoding step of the batch. */
    public StepOutcome step() {
        long t0 = System.nanoTime();
        boolean modelWork = !live.isEmpty() || !waiting.isEmpty();
        List<SequenceUpdate> updates = new ArrayList<>(pending);
        pending.clear();
        expireDeadlines(WallClock.micros(), updates);
        cancelLive(updates);
        admit(takeAdmissions(), updates);
        // Requests that ended on their first token leave before the step, so the step's caches stay
        // one contiguous block of the pool.
        retireFinished(updates);
        int batch = runner.stepAll(live.values());
        retireFinished(updates);
        for (LiveRequest l : live.values()) {
            updates.add(l.report(options.streamText()));
        }
        return outcome(updates, modelWork ? System.nanoTime() - t0 : 0, batch);
    }

    /** Rebuilds restored requests' caches (imported from snapshots where given, else by re-prefill). */
    public StepOutcome resume(List<Resume> resumes) {
        long t0 = System.nanoTime();
        List<SequenceUpdate> updates = new ArrayList<>();
        for (LiveRequest l : Resumer.resume(session, decoders, resumes, options.streamText(), updates)) {
            live.put(l.id, l);
        }
        return outcome(updates, System.nanoTime() - t0, 0);
    }

    /** Full-tensor snapshots of the named requests' caches (those still decoding). */
    public Map<String, byte[]> export(Collection<String> ids) throws IOException {
        Map<String, byte[]> out = new HashMap<>();
        for (String id : ids) {
            LiveRequest l = live.get(id);
            if (l != null && !l.seq().isFinished() && l.seq().cache() != null) {
                out.put(id, decoders.get(l.method).exportCaches(l.seq()));
            }
        }
        return out;
    }

    private void expireDeadlines(long now, List<SequenceUpdate> updates) {
        for (Iterator<Admit> it = waiting.iterator(); it.hasNext(); ) {
            Admit a = it.next();
            if (a.deadlineMicros() != 0 && a.deadlineMicros() < now) {
                it.remove();
                updates.add(SequenceUpdate.failed(a.id(), Finish.CANCELLED, "deadline exceeded"));
            }
        }
        for (LiveRequest l : live.values()) {
            if (l.deadlineMicros != 0 && l.deadlineMicros < now) {
                cancels.putIfAbsent(l.id, "deadline exceeded");
            }
        }
    }

    private void cancelLive(List<SequenceUpdate> updates) {
        List<LiveRequest> stopped = new ArrayList<>();
        cancels.forEach((id, reason) -> {
            LiveRequest l = live.remove(id);
            if (l != null) {
                l.seq().fail(Finish.CANCELLED, reason);
                stopped.add(l);
            }
        });
        cancels.clear();
        release(stopped);
        stopped.forEach(l -> updates.add(l.report(options.streamText())));
    }

    private List<Admit> takeAdmissions() {
        List<Admit> admits = new ArrayList<>();
        while (live.size() + admits.size() < options.maxBatch() && !waiting.isEmpty()) {
            admits.add(waiting.poll());
        }
        return admits;
    }

    /** Validates and prefills admitted requests, one batched prefill per method. */
    private void admit(List<Admit> admits, List<SequenceUpdate> updates) {
        Map<DecodingMethod, List<LiveRequest>> byMethod = new LinkedHashMap<>();
        for (Admit a : admits) {
            Decoder d = decoders.get(a.method());
            if (d == null) {
                updates.add(SequenceUpdate.failed(a.id(), Finish.ERROR, decoders.error(a.method())));
                continue;
            }
            try {
                a.request().checkAgainst(session.model().config);
                byMethod.computeIfAbsent(a.method(), k -> new ArrayList<>())
                        .add(new LiveRequest(a.id(), a.method(), a.deadlineMicros(), session.newSequence(a.request())));
            } catch (InvalidRequestException e) {
                updates.add(SequenceUpdate.failed(a.id(), Finish.ERROR, e.getMessage()));
            }
        }
        byMethod.forEach((method, fresh) -> {
            Decoder d = decoders.get(method);
            long started = WallClock.micros();
            try {
                d.prefill(StepRunner.sequences(fresh));
            } catch (RuntimeException | OutOfMemoryError e) {
                LOG.error("prefill of {} requests failed", fresh.size(), e);
                d.release(StepRunner.sequences(fresh));
                fresh.forEach(l -> updates.add(SequenceUpdate.failed(l.id, Finish.ERROR, ErrorText.of("prefill failed", e))));
                return;
            }
            for (LiveRequest l : fresh) {
                l.admittedAt(started);
                live.put(l.id, l);
            }
        });
    }

    /** Reports and releases finished requests. */
    private void retireFinished(List<SequenceUpdate> updates) {
        List<LiveRequest> done = new ArrayList<>();
        for (LiveRequest l : live.values()) {
            if (l.seq().isFinished()) {
                done.add(l);
            }
        }
        for (LiveRequest l : done) {
            updates.add(l.report(options.streamText()));
            live.remove(l.id);
        }
        release(done);
    }

    /** Frees requests' caches, per method, through the decoders (the pools order the releases). */
    private void release(List<LiveRequest> ls) {
        Map<DecodingMethod, List<SequenceState>> byMethod = new LinkedHashMap<>();
        ls.forEach(l -> byMethod.computeIfAbsent(l.method, k -> new ArrayList<>()).add(l.seq()));
        byMethod.forEach((m, seqs) -> decoders.get(m).release(seqs));
    }

    private StepOutcome outcome(List<SequenceUpdate> updates, long busyNanos, int batch) {
        return new StepOutcome(updates, busyNanos, batch, session.pool().usedBytes(), session.pool().allocatedBytes(),
                live.size(), waiting.size());
    }

    /**
     * Decodes a full batch of synthetic requests ({@link ServeOptions#warmUpTokens} tokens each,
     * prompts of varied length) with the default method and discards them. A fresh engine's first
     * calls run several times slower than later ones (the JIT, the allocator's first pages, kernel
     * set-up per shape); a server pays that here, before its first request, instead of during it.
     * Runs only on an idle scheduler; if it fails, it leaves nothing behind. The decoders then measure
     * the machine ({@link Decoder#calibrate}), keep that, and forget what the synthetic requests'
     * acceptance would teach them.
     *
     * @return the time it took in milliseconds (0 when off)
     */
    public double warmUp() {
        int tokens = options.warmUpTokens();
        if (tokens <= 0 || hasWork()) {
            return 0;
        }
        long t0 = System.nanoTime();
        int vocab = session.model().config.vocabSize;
        int context = session.model().config.maxPositions;
        int longest = Math.max(1, Math.min(64, context / 4));
        // Prompt plus new tokens stay within half the context, so a draft tree's padding rows fit too.
        SamplingParams params = SamplingParams.greedy(Math.max(1, Math.min(tokens, context / 4))).withIgnoreEos(true);
        for (int i = 0; i < options.maxBatch(); i++) {
            // Lengths spread over [longest/8, longest] so that prefill meets short and long prompts.
            int[] prompt = new int[Math.max(1, longest * (1 + i % 8) / 8)];
            for (int j = 0; j < prompt.length; j++) {
                prompt[j] = Math.floorMod(17 + 31 * i + 7 * j, vocab);
            }
            submit(Admit.of(new DecodeRequest("warm-up-" + i, prompt, params), options.defaultMethod()));
        }
        try {
            while (hasWork()) {
                step();
            }
            decoders.calibrate();
        } finally {
            abandonAll();
            decoders.forgetRequests();
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    /** Drops every request without a report and frees its caches. */
    private void abandonAll() {
        release(new ArrayList<>(live.values()));
        live.clear();
        waiting.clear();
        cancels.clear();
        pending.clear();
    }

    @Override
    public void close() {
        try {
            abandonAll();
            decoders.close();
        } finally {
            if (ownsSession) {
                session.close();
            }
        }
    }
}

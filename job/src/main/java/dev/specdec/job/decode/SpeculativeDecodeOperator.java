package dev.specdec.job.decode;

import ai.djl.Device;
import dev.specdec.job.ingest.DeadLetters;
import dev.specdec.job.state.AdmittedRequest;
import dev.specdec.job.state.AdmittedRequestSerializer;
import dev.specdec.job.state.DraftProgress;
import dev.specdec.job.state.KvCacheHandle;
import dev.specdec.job.state.TokenizedRequest;
import dev.specdec.job.state.VerifyProgress;
import dev.specdec.records.DeadLetter;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.TokenChunk;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Speculative decoding of keyed requests with continuous batching, as one keyed operator: Flink 2
 * has no iterations, so the per-request loop (draft, verify, commit, repeat) runs inside it. The
 * model work runs on the operator's engine thread ({@link EngineLoop}), which steps all admitted
 * requests together, the draft stage then the verify stage, one step after another. Each step's
 * outcome comes back as a mail and is applied on the task thread, the only thread that touches
 * keyed state and emits results; so the task thread stays free for input and checkpoints while the
 * model works, and the model never waits for the task thread.
 *
 * <p>Keyed state per request id: {@code request} (the admitted request and its admission order),
 * {@code verify} and {@code kv-cache} ({@link VerifyStage}), {@code draft} ({@link DraftStage}).
 * Mails and the engine's memory are not checkpointed: after a restore, the requests being decoded
 * and the waiting ones are found in keyed state ({@link #initializeState}) and handed to a new
 * engine, which rebuilds the caches of the former before anything else runs.
 *
 * <p>With {@link DecodeSettings#streamChunks()} on, every step's new tokens also leave as a
 * {@link TokenChunk} on the {@link #CHUNKS} side output, as soon as the step is applied; the result
 * still leaves only when the request ends.
 *
 * <p>Admission is bounded: a subtask holds at most {@link DecodeSettings#admissionLimit()} requests
 * (decoding plus waiting); when full, {@link #processElement} yields to the mailbox until a request
 * finishes, which backpressures the input instead of queueing without bound. The record is stored in
 * keyed state before yielding. An operator's yield runs the operator's mails (engine outcomes) but
 * not the task's checkpoint mails, so a checkpoint waits until a request leaves; the same holds for
 * the drain in {@link #endInput}, which bounded admission keeps short.
 */
public final class SpeculativeDecodeOperator extends AbstractStreamOperator<GenerationResult>
        implements OneInputStreamOperator<TokenizedRequest, GenerationResult>, BoundedOneInput {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SpeculativeDecodeOperator.class);

    /** Requests the operator will not serve (a second request with an id still in progress). */
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("decode-dead-letters", new AvroTypeInfo<>(DeadLetter.class));

    /** Each request's partial output per step, when {@link DecodeSettings#streamChunks()} is on. */
    public static final OutputTag<TokenChunk> CHUNKS =
            new OutputTag<>("decode-chunks", new AvroTypeInfo<>(TokenChunk.class));

    static final ValueStateDescriptor<AdmittedRequest> REQUEST =
            new ValueStateDescriptor<>("request", new AdmittedRequestSerializer());

    private final transient DecodeSettings settings;
    private final transient MailboxExecutor mailbox;

    private transient ValueState<AdmittedRequest> requests;
    private transient VerifyStage verify;
    private transient DraftStage draft;
    private transient Device device;

    /** Ids of the requests handed to the engine (waiting there or being decoded) and not finished. */
    private transient Set<String> inEngine;
    /** After a restore: requests to resume and requests to queue again, handed to the engine in open(). */
    private transient List<EngineWorker.Resume> resumes;
    private transient List<AdmittedRequest> requeue;
    private transient long nextAdmissionSeq;

    private transient EngineLoop engine;
    private transient ConcurrentLinkedQueue<StepOutcome> outcomes;
    private transient AtomicBoolean applyScheduled;
    /** Full-tensor checkpoints: the engine's export, held between the two phases of a checkpoint. */
    private transient EngineLoop.Export heldExport;
    private transient Map<String, byte[]> heldTensors;
    private transient long exportStartNanos;

    private transient EngineUtilisation utilisation;
    private transient Counter completed;
    private transient Counter failed;
    private transient Counter cancelled;
    private transient Counter restored;
    private transient Counter engineBusyMicros;
    private transient volatile int queuedCount;
    private transient volatile int activeCount;
    private transient volatile int lastBatch;
    private transient volatile int intraOpThreads;
    private transient volatile long kvUsedBytes;
    private transient volatile long kvAllocatedBytes;
    private transient volatile long lastTensorSnapshotBytes;
    private transient volatile double lastTensorSnapshotMillis;

    SpeculativeDecodeOperator(StreamOperatorParameters<GenerationResult> parameters, DecodeSettings settings) {
        super(parameters);
        this.settings = settings;
        this.mailbox = parameters.getMailboxExecutor();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        inEngine = new LinkedHashSet<>();
        resumes = new ArrayList<>();
        requeue = new ArrayList<>();
        outcomes = new ConcurrentLinkedQueue<>();
        applyScheduled = new AtomicBoolean();
        requests = getPartitionedState(REQUEST);
        device = DeviceSelector.select(settings.verifyDevice(),
                getRuntimeContext().getExternalResourceInfos(DeviceSelector.GPU_RESOURCE),
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
        Function<ValueStateDescriptor<?>, ValueState<?>> states = d -> {
            try {
                return getPartitionedState(d);
            } catch (Exception e) {
                throw new IllegalStateException("cannot create keyed state " + d.getName(), e);
            }
        };
        verify = new VerifyStage(states, getMetricGroup(), device.toString());
        draft = new DraftStage(states, getMetricGroup(), device.toString());
        registerMetrics(getMetricGroup());
        if (context.isRestored()) {
            rebuildFromKeyedState();
        }
    }

    /** Mails are gone after a restore: find every admitted request in keyed state to resume or re-queue it. */
    private void rebuildFromKeyedState() throws Exception {
        List<String> keys;
        try (Stream<String> s = this.<String>getKeyedStateBackend().getKeys(REQUEST.getName(), VoidNamespace.INSTANCE)) {
            keys = s.collect(Collectors.toList());
        }
        for (String key : keys) {
            setCurrentKey(key);
            AdmittedRequest a = requests.value();
            if (a == null) {
                continue;
            }
            nextAdmissionSeq = Math.max(nextAdmissionSeq, a.admissionSeq() + 1);
            VerifyProgress v = verify.progress();
            if (v == null || v.count() == 0) {
                requeue.add(a);
                continue;
            }
            TokenizedRequest r = a.request();
            KvCacheHandle h = verify.cache();
            int expectedRows = r.promptIds().length + v.count() - 1;
            byte[] tensors = h != null && h.hasTensors() && h.rows() == expectedRows ? h.tensors() : null;
            resumes.add(new EngineWorker.Resume(key, r.toEngineRequest(), r.drafter(), v.tokens(), tensors));
            verify.markRecovered();
            if (tensors == null) {
                draft.markRebuilt();
            }
        }
        requeue.sort(Comparator.comparingLong(AdmittedRequest::admissionSeq));
        restored.inc(resumes.size() + requeue.size());
        LOG.info("restored {} requests being decoded and {} waiting", resumes.size(), requeue.size());
    }

    @Override
    public void open() throws Exception {
        super.open();
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        int slots = getContainingTask().getEnvironment().getTaskManagerInfo().getConfiguration()
                .get(TaskManagerOptions.NUM_TASK_SLOTS);
        intraOpThreads = settings.intraOpThreads(Runtime.getRuntime().availableProcessors(), Math.max(1, slots));
        LOG.info("loading {} on {} with {} intra-op threads ({})", settings.modelDir(), device, intraOpThreads, settings);
        try {
            engine = EngineLoop.start(settings, device, intraOpThreads, "specdec-engine-" + subtask,
                    new EngineLoop.Outcomes() {
                        @Override
                        public void publish(StepOutcome outcome) {
                            outcomes.add(outcome);
                            scheduleApply();
                        }

                        @Override
                        public void failed(Throwable error) {
                            executeOrIgnore(() -> {
                                throw new IllegalStateException("the decode engine failed", error);
                            });
                        }
                    }).get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : new IllegalStateException(e.getCause());
        }
        if (!resumes.isEmpty()) {
            List<Long> deadlines = new ArrayList<>();
            for (EngineWorker.Resume r : resumes) {
                setCurrentKey(r.id());
                deadlines.add(requests.value().request().deadlineMicros());
                inEngine.add(r.id());
            }
            engine.resume(resumes, deadlines);
        }
        for (AdmittedRequest a : requeue) {
            handOver(a.request());
        }
        resumes = List.of();
        requeue = List.of();
    }

    @Override
    public void processElement(StreamRecord<TokenizedRequest> element) throws Exception {
        TokenizedRequest r = element.getValue();
        if (r.cancel()) {
            if (requests.value() != null) {
                engine.cancel(r.id(), "cancelled by the client");
            } else {
                LOG.debug("cancellation of unknown or finished request {} ignored", r.id());
            }
            return;
        }
        if (requests.value() != null) {
            output.collect(DEAD_LETTERS, new StreamRecord<>(DeadLetters.fromJob(r.id(),
                    "duplicate request id: a request with this id is still in progress")));
            return;
        }
        requests.update(new AdmittedRequest(r, nextAdmissionSeq++, WallClock.micros()));
        handOver(r);
        // Bounded admission: hold the input (backpressure) until a request leaves. The engine's
        // outcome mails keep running meanwhile, so decoding goes on.
        while (inEngine.size() >= settings.admissionLimit()) {
            mailbox.yield();
        }
    }

    private void handOver(TokenizedRequest r) {
        inEngine.add(r.id());
        engine.admit(new EngineWorker.Admit(r.id(), r.toEngineRequest(), r.drafter()), r.deadlineMicros());
    }

    @Override
    public void endInput() throws Exception {
        // Drain: the bounded input is done, decode what is admitted. Admission stays bounded, so
        // this is at most admissionLimit requests and the drain stays short.
        while (!inEngine.isEmpty()) {
            mailbox.yield();
        }
    }

    /** One mail applies every outcome published since the last one (the engine may be several steps ahead). */
    private void scheduleApply() {
        if (applyScheduled.compareAndSet(false, true)) {
            executeOrIgnore(this::applyPublished);
        }
    }

    private void executeOrIgnore(org.apache.flink.util.function.ThrowingRunnable<? extends Exception> mail) {
        try {
            mailbox.execute(mail, "apply decode steps");
        } catch (RuntimeException closed) {
            // The task is shutting down: nothing left to apply to.
        }
    }

    private void applyPublished() throws Exception {
        applyScheduled.set(false);
        for (StepOutcome o = outcomes.poll(); o != null; o = outcomes.poll()) {
            apply(o);
        }
    }

    /** Applies an engine call's outcome to keyed state and emits the results of finished requests. */
    private void apply(StepOutcome o) throws Exception {
        if (o.busyNanos() > 0) {
            utilisation.add(o.busyNanos());
            engineBusyMicros.inc(o.busyNanos() / 1000);
            kvUsedBytes = o.kvUsedBytes();
            kvAllocatedBytes = o.kvAllocatedBytes();
            lastBatch = o.batchSize();
        }
        activeCount = o.liveRequests();
        queuedCount = o.queuedRequests();
        int requestSteps = 0;
        int stepTokens = 0;
        int prefills = 0;
        long verifyNanos = 0;
        long draftNanos = 0;
        long prefillNanos = 0;
        for (SequenceUpdate u : o.updates()) {
            setCurrentKey(u.id());
            AdmittedRequest a = requests.value();
            if (a == null) {
                LOG.warn("engine reported request {} that is not in keyed state", u.id());
                inEngine.remove(u.id());
                continue;
            }
            VerifyProgress v = verify.apply(u);
            DraftProgress d = draft.apply(u, a.request().drafter());
            if (settings.streamChunks() && (u.newTokens().length > 0 || u.finished())) {
                emitChunk(u, v.count() - u.newTokens().length);
            }
            requestSteps += u.steps();
            stepTokens += u.stepTokens();
            verifyNanos += u.verifyNanos();
            draftNanos += u.draftNanos();
            prefillNanos += u.prefillNanos();
            prefills += u.startedMicros() != 0 ? 1 : 0;
            if (u.finished()) {
                finish(a, v, d, u.finish(), u.error(), u.text());
            }
        }
        int batched = o.batchSize() > 0 ? 1 : 0;
        verify.observe(batched, verifyNanos, prefills, prefillNanos);
        draft.observe(batched, requestSteps, stepTokens, draftNanos);
    }

    private void emitChunk(SequenceUpdate u, int tokenOffset) {
        List<Integer> ids = new ArrayList<>(u.newTokens().length);
        for (int t : u.newTokens()) {
            ids.add(t);
        }
        output.collect(CHUNKS, new StreamRecord<>(TokenChunk.newBuilder().setRequestId(u.id()).setTokenOffset(tokenOffset)
                .setTokenIds(ids).setTextOffset(u.textOffset()).setText(u.textDelta()).setLast(u.finished())
                .setEmittedTimeMs(System.currentTimeMillis()).build()));
    }

    /** Emits the current key's result and forgets the request. */
    private void finish(AdmittedRequest a, VerifyProgress v, DraftProgress d,
                        dev.specdec.engine.generate.FinishReason reason, String error, String text) {
        output.collect(new StreamRecord<>(Results.of(a.request(), v, d, reason, error, text)));
        requests.clear();
        verify.clear();
        draft.clear();
        inEngine.remove(a.request().id());
        switch (reason) {
            case ERROR -> failed.inc();
            case CANCELLED -> cancelled.inc();
            default -> completed.inc();
        }
    }

    /**
     * Full-tensor mode, before the barrier goes downstream: pauses the engine at a step boundary and
     * has it export the caches of every request it decodes, then applies the outcomes it published up
     * to that step. Results of requests that finished by then are emitted here, ahead of the barrier,
     * so they belong to this checkpoint like the state that no longer holds those requests.
     */
    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        releaseHeldExport();
        if (settings.cacheCheckpoint() == DecodeSettings.CacheCheckpoint.FULL_TENSOR && !inEngine.isEmpty()) {
            exportStartNanos = System.nanoTime();
            heldExport = engine.export(new ArrayList<>(inEngine));
            try {
                heldTensors = heldExport.result().get(10, TimeUnit.MINUTES);
            } catch (Exception e) {
                releaseHeldExport();
                throw e;
            }
            applyPublished();
        }
    }

    /** Full-tensor mode: stores the exported caches (matching the committed tokens) and lets the engine go on. */
    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        if (heldExport == null) {
            return;
        }
        try {
            long bytes = 0;
            for (Map.Entry<String, byte[]> e : heldTensors.entrySet()) {
                setCurrentKey(e.getKey());
                VerifyProgress v = verify.progress();
                AdmittedRequest a = requests.value();
                if (v == null || a == null) {
                    continue;
                }
                verify.storeSnapshot(new KvCacheHandle(a.request().promptIds().length + v.count() - 1, e.getValue()));
                bytes += e.getValue().length;
            }
            lastTensorSnapshotBytes = bytes;
            lastTensorSnapshotMillis = (System.nanoTime() - exportStartNanos) / 1e6;
        } finally {
            releaseHeldExport();
        }
    }

    /** Lets a paused engine go on (also if a checkpoint was abandoned between its two phases). */
    private void releaseHeldExport() {
        if (heldExport != null) {
            heldExport.release();
            heldExport = null;
            heldTensors = null;
        }
    }

    private void registerMetrics(MetricGroup g) {
        utilisation = new EngineUtilisation();
        completed = g.counter("completedRequests");
        failed = g.counter("failedRequests");
        cancelled = g.counter("cancelledRequests");
        restored = g.counter("restoredRequests");
        engineBusyMicros = g.counter("engineBusyMicros");
        g.gauge("activeRequests", () -> activeCount);
        g.gauge("queuedRequests", () -> queuedCount);
        g.gauge("batchSize", () -> lastBatch);
        g.gauge("kvCacheBytes", () -> kvUsedBytes);
        g.gauge("kvCacheAllocatedBytes", () -> kvAllocatedBytes);
        g.gauge("engineUtilisation", () -> utilisation.value());
        g.gauge("intraOpThreads", () -> intraOpThreads);
        g.gauge("tensorSnapshotBytes", () -> lastTensorSnapshotBytes);
        g.gauge("tensorSnapshotMillis", () -> lastTensorSnapshotMillis);
    }

    @Override
    public void close() throws Exception {
        try {
            releaseHeldExport();
            if (engine != null) {
                // The loop finishes its current step, then closes the engine on its own thread; wait for
                // it, so a restarted task does not hold two copies of the model.
                engine.stop();
                engine.awaitStopped(5, TimeUnit.MINUTES);
            }
        } finally {
            super.close();
        }
    }
}

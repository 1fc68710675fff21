package dev.specdec.job.decode;

import ai.djl.Device;
import dev.specdec.engine.request.Finish;
import dev.specdec.engine.serve.Admit;
import dev.specdec.engine.serve.EngineThread;
import dev.specdec.engine.serve.SequenceUpdate;
import dev.specdec.engine.serve.StepOutcome;
import dev.specdec.engine.serve.WallClock;
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
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
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

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Speculative decoding of keyed requests with continuous batching, as one keyed operator: Flink 2
 * has no iterations, so the per-request loop (draft, verify, commit, repeat) runs inside it, on the
 * engine's {@link EngineThread} (the same {@code BatchScheduler} every engine command uses). Each
 * step's outcome comes back as a mail and is applied on the task thread, the only thread that touches
 * keyed state and emits results; so the task thread stays free for input and checkpoints while the
 * model works, and the model never waits for the task thread.
 *
 * <p>Keyed state per request id: {@code request} (the admitted request and its admission order),
 * {@code verify} and {@code kv-cache} ({@link VerifyLedger}), {@code draft} ({@link DraftLedger}).
 * After a restore the requests are found there again ({@link KeyedRequestRestore}). With
 * {@link DecodeSettings#streamChunks()} every step's new tokens also leave as a {@link TokenChunk} on
 * the {@link #CHUNKS} side output.
 *
 * <p>Admission is bounded: a subtask holds at most {@link DecodeSettings#admissionLimit()} requests;
 * when full, {@link #processElement} yields to the mailbox until a request finishes, which
 * backpressures the input instead of queueing without bound. A yield runs the operator's mails
 * (engine outcomes) but not the task's checkpoint mails, so a checkpoint waits until a request
 * leaves; the same holds for the drain in {@link #endInput}, which bounded admission keeps short.
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
    /**
     * A client's cancellation, kept until the request's result is out: the engine applies a cancel
     * asynchronously, so a checkpoint between the two must still hold it, or a restore would lose it.
     */
    static final ValueStateDescriptor<Boolean> CANCEL_REQUESTED =
            new ValueStateDescriptor<>("cancel-requested", org.apache.flink.api.common.typeinfo.Types.BOOLEAN);

    private final transient DecodeSettings settings;
    private final transient MailboxExecutor mailbox;

    private transient ValueState<AdmittedRequest> requests;
    private transient ValueState<Boolean> cancelRequested;
    private transient VerifyLedger verify;
    private transient DraftLedger draft;
    private transient DecodeMetrics metrics;
    private transient Device device;
    /** Ids of the requests handed to the engine (waiting there or being decoded) and not finished. */
    private transient Set<String> inEngine;
    private transient KeyedRequestRestore.Plan restored;
    private transient long nextAdmissionSeq;
    private transient EngineThread engine;
    private transient OutcomeMailbox outcomes;
    private transient FullTensorCheckpoints tensorCheckpoints;

    SpeculativeDecodeOperator(StreamOperatorParameters<GenerationResult> parameters, DecodeSettings settings) {
        super(parameters);
        this.settings = settings;
        this.mailbox = parameters.getMailboxExecutor();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        inEngine = new LinkedHashSet<>();
        outcomes = new OutcomeMailbox(mailbox, this::apply);
        tensorCheckpoints = new FullTensorCheckpoints();
        requests = getPartitionedState(REQUEST);
        cancelRequested = getPartitionedState(CANCEL_REQUESTED);
        verify = new VerifyLedger(this::keyedState);
        draft = new DraftLedger(this::keyedState);
        device = DeviceSelector.select(settings.verifyDevice(),
                getRuntimeContext().getExternalResourceInfos(DeviceSelector.GPU_RESOURCE),
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
        metrics = new DecodeMetrics(getMetricGroup(), device.toString());
        restored = KeyedRequestRestore.Plan.EMPTY;
        if (context.isRestored()) {
            List<String> keys;
            try (Stream<String> s = this.<String>getKeyedStateBackend().getKeys(REQUEST.getName(), VoidNamespace.INSTANCE)) {
                keys = s.collect(Collectors.toList());
            }
            restored = KeyedRequestRestore.plan(keys, this::setCurrentKey, requests, cancelRequested, verify, draft);
            nextAdmissionSeq = restored.nextAdmissionSeq();
            metrics.restored(restored.size());
            LOG.info("restored {} requests being decoded and {} waiting", restored.resumes().size(),
                    restored.requeue().size());
        }
    }

    private ValueState<?> keyedState(ValueStateDescriptor<?> d) {
        try {
            return getPartitionedState(d);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create keyed state " + d.getName(), e);
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        int slots = getContainingTask().getEnvironment().getTaskManagerInfo().getConfiguration()
                .get(TaskManagerOptions.NUM_TASK_SLOTS);
        int threads = settings.intraOpThreads(Runtime.getRuntime().availableProcessors(), Math.max(1, slots));
        metrics.intraOpThreads(threads);
        LOG.info("loading {} on {} with {} intra-op threads ({})", settings.modelDir(), device, threads, settings);
        try {
            engine = EngineThread.start(Path.of(settings.modelDir()), device, settings.serve(), threads,
                    "specdec-engine-" + subtask, outcomes).get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : new IllegalStateException(e.getCause());
        }
        if (!restored.resumes().isEmpty()) {
            restored.resumes().forEach(r -> inEngine.add(r.id()));
            engine.resume(restored.resumes());
        }
        for (AdmittedRequest a : restored.requeue()) {
            handOver(a.request());
        }
        for (String id : restored.cancelled()) {
            engine.cancel(id, "cancelled by the client");
        }
        restored = KeyedRequestRestore.Plan.EMPTY;
    }

    @Override
    public void processElement(StreamRecord<TokenizedRequest> element) throws Exception {
        TokenizedRequest r = element.getValue();
        if (r.cancel()) {
            if (requests.value() != null) {
                cancelRequested.update(true);
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
        engine.submit(new Admit(r.id(), r.toEngineRequest(), r.decodingMethod(), r.deadlineMicros()));
    }

    @Override
    public void endInput() throws Exception {
        // Drain: the bounded input is done, decode what is admitted (at most admissionLimit requests).
        while (!inEngine.isEmpty()) {
            mailbox.yield();
        }
    }

    /** Applies an engine call's outcome to keyed state and emits chunks and the results of finished requests. */
    private void apply(StepOutcome o) throws Exception {
        metrics.observe(o);
        for (SequenceUpdate u : o.updates()) {
            setCurrentKey(u.id());
            AdmittedRequest a = requests.value();
            if (a == null) {
                LOG.warn("engine reported request {} that is not in keyed state", u.id());
                inEngine.remove(u.id());
                continue;
            }
            VerifyProgress v = verify.apply(u);
            DraftProgress d = draft.apply(u, a.request().method());
            if (settings.streamChunks() && (u.newTokens().length > 0 || u.finished())) {
                output.collect(CHUNKS, new StreamRecord<>(Results.chunk(u, v.count() - u.newTokens().length)));
            }
            if (u.finished()) {
                finish(a, v, d, u.ending());
            }
        }
    }

    /** Emits the current key's result and forgets the request. */
    private void finish(AdmittedRequest a, VerifyProgress v, DraftProgress d, SequenceUpdate.Ending ending) {
        GenerationResult result = Results.of(a.request(), v, d, ending.finish(), ending.error(), ending.text());
        output.collect(new StreamRecord<>(result));
        requests.clear();
        cancelRequested.clear();
        verify.clear();
        draft.clear();
        inEngine.remove(a.request().id());
        metrics.finished(result);
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
        tensorCheckpoints.resume();
        if (settings.cacheCheckpoint() == DecodeSettings.CacheCheckpoint.FULL_TENSOR && !inEngine.isEmpty()) {
            tensorCheckpoints.pause(engine, new ArrayList<>(inEngine));
            outcomes.applyPublished();
        }
    }

    /** Full-tensor mode: stores the exported caches (matching the committed tokens) and lets the engine go on. */
    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        if (tensorCheckpoints.paused()) {
            double[] stored = tensorCheckpoints.store(this::storeTensors);
            metrics.tensorSnapshot((long) stored[0], stored[1]);
        }
    }

    private long storeTensors(String id, byte[] tensors) throws Exception {
        setCurrentKey(id);
        VerifyProgress v = verify.progress();
        AdmittedRequest a = requests.value();
        if (v == null || a == null) {
            return 0;
        }
        verify.storeSnapshot(new KvCacheHandle(a.request().promptIds().length + v.count() - 1, tensors));
        return tensors.length;
    }

    @Override
    public void close() throws Exception {
        try {
            tensorCheckpoints.resume();
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

package dev.specdec.job.decode;

import ai.djl.Device;
import dev.specdec.engine.TorchThreads;
import dev.specdec.engine.generate.FinishReason;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The decode operator's engine thread. It steps continuously while there is work, without waiting
 * for the task thread between steps: the task thread hands over requests and cancellations as
 * commands, and receives every step's {@link StepOutcome} through {@link Outcomes} (a mail). So the
 * engine never idles while the task thread is descheduled or busy, and the task thread never waits
 * for a model step.
 *
 * <p>Requests handed over wait in the engine's own queue and join the batch as soon as it has room
 * (continuous batching); deadlines are enforced here, for waiting and decoding requests alike.
 * Outcomes are published in step order, so keyed state, which the task thread updates from them,
 * always describes the engine as it was after some step.
 */
final class EngineLoop implements Runnable {

    /** Where outcomes go (called on the engine thread). */
    interface Outcomes {
        void publish(StepOutcome outcome);

        /** The loop died of an unexpected error; the task should fail. */
        void failed(Throwable error);
    }

    private record Admit(EngineWorker.Admit admit, long deadlineMicros) {
    }

    private record Cancel(String id, String reason) {
    }

    private record Resume(List<EngineWorker.Resume> resumes, List<Long> deadlines) {
    }

    /** Pauses the loop at a step boundary: export, then wait until the task thread lets it go on. */
    record Export(Collection<String> ids, CompletableFuture<Map<String, byte[]>> result, CountDownLatch proceed) {
        void release() {
            proceed.countDown();
        }
    }

    private static final Object STOP = new Object();

    private final EngineWorker worker;
    private final int maxBatch;
    private final Outcomes outcomes;
    private final LinkedBlockingQueue<Object> commands = new LinkedBlockingQueue<>();
    private final ArrayDeque<Admit> waiting = new ArrayDeque<>();
    private final Map<String, Long> deadlines = new HashMap<>();
    private final Map<String, String> cancels = new LinkedHashMap<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    private EngineLoop(EngineWorker worker, int maxBatch, Outcomes outcomes) {
        this.worker = worker;
        this.maxBatch = maxBatch;
        this.outcomes = outcomes;
    }

    /**
     * Starts the engine thread with {@code intraOpThreads} PyTorch threads for its model calls;
     * completes once the model is loaded and warmed up (or with the reason it could not be).
     */
    static CompletableFuture<EngineLoop> start(DecodeSettings settings, Device device, int intraOpThreads,
                                               String threadName, Outcomes outcomes) {
        CompletableFuture<EngineLoop> ready = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            EngineLoop loop;
            try {
                // PyTorch keeps the count per calling thread: it must be set here, on the engine thread.
                TorchThreads.use(intraOpThreads);
                loop = new EngineLoop(EngineWorker.open(settings, device), settings.maxBatch(), outcomes);
            } catch (Throwable e) {
                ready.completeExceptionally(e);
                return;
            }
            ready.complete(loop);
            loop.run();
        }, threadName);
        t.setDaemon(true);
        t.start();
        return ready;
    }

    // ---- commands, called on the task thread ----

    void admit(EngineWorker.Admit admit, long deadlineMicros) {
        commands.add(new Admit(admit, deadlineMicros));
    }

    void cancel(String id, String reason) {
        commands.add(new Cancel(id, reason));
    }

    void resume(List<EngineWorker.Resume> resumes, List<Long> deadlineMicros) {
        commands.add(new Resume(resumes, deadlineMicros));
    }

    /** Asks for a full-tensor export at the next step boundary; the loop waits for {@link Export#release}. */
    Export export(Collection<String> ids) {
        Export e = new Export(List.copyOf(ids), new CompletableFuture<>(), new CountDownLatch(1));
        commands.add(e);
        return e;
    }

    /** Ends the loop after the current step and closes the engine on its own thread. */
    void stop() {
        commands.add(STOP);
    }

    /** Waits until the loop has ended and the engine's memory is released. */
    void awaitStopped(long timeout, java.util.concurrent.TimeUnit unit) throws Exception {
        stopped.get(timeout, unit);
    }

    // ---- the loop, on the engine thread ----

    @Override
    public void run() {
        try {
            while (true) {
                Object c = idle() ? commands.take() : commands.poll();
                while (c != null) {
                    if (c == STOP) {
                        return;
                    }
                    handle(c);
                    c = commands.poll();
                }
                work();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            failPendingExports(t);
            outcomes.failed(t);
        } finally {
            try {
                worker.close();
            } finally {
                stopped.complete(null);
            }
        }
    }

    private boolean idle() {
        return waiting.isEmpty() && cancels.isEmpty() && worker.activeCount() == 0;
    }

    private void handle(Object c) throws InterruptedException {
        if (c instanceof Admit a) {
            waiting.add(a);
        } else if (c instanceof Cancel x) {
            if (!cancelWaiting(x.id(), x.reason()) && worker.isLive(x.id())) {
                cancels.put(x.id(), x.reason());
            }
        } else if (c instanceof Resume r) {
            StepOutcome o = worker.resume(r.resumes());
            for (int i = 0; i < r.resumes().size(); i++) {
                deadlines.put(r.resumes().get(i).id(), r.deadlines().get(i));
            }
            forgetFinished(o.updates());
            outcomes.publish(counted(o));
        } else if (c instanceof Export e) {
            try {
                e.result().complete(worker.export(e.ids()));
            } catch (Exception ex) {
                e.result().completeExceptionally(ex);
            }
            e.proceed().await();
        }
    }

    /** Ends a request still waiting for a batch slot; false if it is not waiting. */
    private boolean cancelWaiting(String id, String reason) {
        for (Iterator<Admit> it = waiting.iterator(); it.hasNext(); ) {
            if (it.next().admit().id().equals(id)) {
                it.remove();
                outcomes.publish(new StepOutcome(List.of(SequenceUpdate.failed(id, FinishReason.CANCELLED, reason)),
                        0, 0, 0, 0, worker.activeCount(), waiting.size()));
                return true;
            }
        }
        return false;
    }

    /** One engine call: expire deadlines, fill the batch from the waiting requests, step. */
    private void work() {
        long now = WallClock.micros();
        List<SequenceUpdate> expired = new ArrayList<>();
        for (Iterator<Admit> it = waiting.iterator(); it.hasNext(); ) {
            Admit a = it.next();
            if (a.deadlineMicros() != 0 && a.deadlineMicros() < now) {
                it.remove();
                expired.add(SequenceUpdate.failed(a.admit().id(), FinishReason.CANCELLED, "deadline exceeded"));
            }
        }
        deadlines.forEach((id, deadline) -> {
            if (deadline != 0 && deadline < now) {
                cancels.putIfAbsent(id, "deadline exceeded");
            }
        });
        List<EngineWorker.Admit> admits = new ArrayList<>();
        while (worker.activeCount() + admits.size() < maxBatch && !waiting.isEmpty()) {
            Admit a = waiting.poll();
            admits.add(a.admit());
            deadlines.put(a.admit().id(), a.deadlineMicros());
        }
        if (admits.isEmpty() && cancels.isEmpty() && worker.activeCount() == 0) {
            if (!expired.isEmpty()) {
                outcomes.publish(new StepOutcome(expired, 0, 0, 0, 0, 0, waiting.size()));
            }
            return;
        }
        List<EngineWorker.Cancel> stop = new ArrayList<>();
        cancels.forEach((id, reason) -> stop.add(new EngineWorker.Cancel(id, reason)));
        cancels.clear();
        StepOutcome o = worker.step(stop, admits);
        forgetFinished(o.updates());
        if (!expired.isEmpty()) {
            List<SequenceUpdate> all = new ArrayList<>(expired);
            all.addAll(o.updates());
            o = new StepOutcome(all, o.busyNanos(), o.batchSize(), o.kvUsedBytes(), o.kvAllocatedBytes(),
                    o.liveRequests(), 0);
        }
        outcomes.publish(counted(o));
    }

    private void forgetFinished(List<SequenceUpdate> updates) {
        for (SequenceUpdate u : updates) {
            if (u.finished()) {
                deadlines.remove(u.id());
                cancels.remove(u.id());
            }
        }
    }

    private StepOutcome counted(StepOutcome o) {
        return new StepOutcome(o.updates(), o.busyNanos(), o.batchSize(), o.kvUsedBytes(), o.kvAllocatedBytes(),
                worker.activeCount(), waiting.size());
    }

    private void failPendingExports(Throwable t) {
        for (Object c : commands) {
            if (c instanceof Export e) {
                e.result().completeExceptionally(t);
            }
        }
    }
}

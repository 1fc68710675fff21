package dev.specdec.engine.serve;

import ai.djl.Device;
import dev.specdec.engine.TorchThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link BatchScheduler} on its own thread, for a server. It steps continuously while there is
 * work, without waiting for its caller between steps: the caller hands over requests, cancellations
 * and resumptions as commands, and receives every step's {@link StepOutcome} through {@link Outcomes}.
 * So the engine never idles while the caller is busy, and the caller never waits for a model step.
 * Outcomes are published in step order, so whatever the caller keeps from them always describes the
 * engine as it was after some step.
 */
public final class EngineThread implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(EngineThread.class);

    /** Where outcomes go (called on the engine thread). */
    public interface Outcomes {
        void publish(StepOutcome outcome);

        /** The loop died of an unexpected error; the engine is gone. */
        void failed(Throwable error);
    }

    /** Pauses the loop at a step boundary: export, then wait until the caller lets it go on. */
    public record Export(Collection<String> ids, CompletableFuture<Map<String, byte[]>> result, CountDownLatch proceed) {
        public void release() {
            proceed.countDown();
        }
    }

    private record Cancel(String id, String reason) {
    }

    private record ResumeAll(List<Resume> resumes) {
    }

    private static final Object STOP = new Object();

    private final BatchScheduler scheduler;
    private final Outcomes outcomes;
    private final LinkedBlockingQueue<Object> commands = new LinkedBlockingQueue<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    private EngineThread(BatchScheduler scheduler, Outcomes outcomes) {
        this.scheduler = scheduler;
        this.outcomes = outcomes;
    }

    /**
     * Starts the engine thread: it sets its PyTorch thread count ({@code intraOpThreads}), loads the
     * model and warms it up. Completes once the engine is ready (or with the reason it could not be).
     */
    public static CompletableFuture<EngineThread> start(Path modelDir, Device device, ServeOptions options,
                                                        int intraOpThreads, String threadName, Outcomes outcomes) {
        CompletableFuture<EngineThread> ready = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            EngineThread engine;
            try {
                // PyTorch keeps the count per calling thread: it must be set here, on the engine thread.
                TorchThreads.use(intraOpThreads);
                BatchScheduler scheduler = BatchScheduler.open(modelDir, device, options);
                warmUp(scheduler);
                engine = new EngineThread(scheduler, outcomes);
            } catch (Throwable e) {
                ready.completeExceptionally(e);
                return;
            }
            ready.complete(engine);
            engine.run();
        }, threadName);
        t.setDaemon(true);
        t.start();
        return ready;
    }

    /** The warm-up only saves time: if it fails, the first requests pay for a cold engine instead. */
    private static void warmUp(BatchScheduler scheduler) {
        try {
            double ms = scheduler.warmUp();
            if (ms > 0) {
                LOG.info(
                        "engine warmed up in {} ms ({} synthetic requests, {} tokens each)", Math.round(ms),
                        scheduler.options().maxBatch(), scheduler.options().warmUpTokens());
            }
        } catch (RuntimeException e) {
            LOG.warn("engine warm-up failed; decoding starts cold", e);
        }
    }

    // ---- commands, called on the caller's thread ----

    public void submit(Admit admit) {
        commands.add(admit);
    }

    public void cancel(String id, String reason) {
        commands.add(new Cancel(id, reason));
    }

    public void resume(List<Resume> resumes) {
        commands.add(new ResumeAll(List.copyOf(resumes)));
    }

    /** Asks for a full-tensor export at the next step boundary; the loop waits for {@link Export#release}. */
    public Export export(Collection<String> ids) {
        Export e = new Export(List.copyOf(ids), new CompletableFuture<>(), new CountDownLatch(1));
        commands.add(e);
        return e;
    }

    /** Ends the loop after the current step and closes the engine on its own thread. */
    public void stop() {
        commands.add(STOP);
    }

    /** Waits until the loop has ended and the engine's memory is released. */
    public void awaitStopped(long timeout, TimeUnit unit) throws Exception {
        stopped.get(timeout, unit);
    }

    // ---- the loop, on the engine thread ----

    @Override
    public void run() {
        try {
            while (true) {
                Object c = scheduler.hasWork() ? commands.poll() : commands.take();
                while (c != null) {
                    if (c == STOP) {
                        return;
                    }
                    handle(c);
                    c = commands.poll();
                }
                if (scheduler.hasWork()) {
                    outcomes.publish(scheduler.step());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            failPendingExports(t);
            outcomes.failed(t);
        } finally {
            try {
                scheduler.close();
            } finally {
                stopped.complete(null);
            }
        }
    }

    private void handle(Object c) throws InterruptedException {
        if (c instanceof Admit a) {
            scheduler.submit(a);
        } else if (c instanceof Cancel x) {
            scheduler.cancel(x.id(), x.reason());
        } else if (c instanceof ResumeAll r) {
            outcomes.publish(scheduler.resume(r.resumes()));
        } else if (c instanceof Export e) {
            try {
                e.result().complete(scheduler.export(e.ids()));
            } catch (Exception ex) {
                e.result().completeExceptionally(ex);
            }
            e.proceed().await();
        }
    }

    private void failPendingExports(Throwable t) {
        for (Object c : commands) {
            if (c instanceof Export e) {
                e.result().completeExceptionally(t);
            }
        }
    }
}

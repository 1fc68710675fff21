package dev.specdec.job.decode;

import dev.specdec.engine.serve.EngineThread;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The two phases of a full-tensor checkpoint. Before the barrier ({@link #pause}) the engine stops at
 * a step boundary and exports the caches of the requests it decodes; at the snapshot ({@link #store})
 * each export goes into its request's keyed state, and the engine goes on ({@link #resume}). Between
 * the phases the task thread applies the outcomes published up to that step, so the exported caches
 * match the committed tokens in keyed state.
 */
final class FullTensorCheckpoints {
    /** Stores one request's export in keyed state; returns the bytes stored (0 if the request is gone). */
    interface Store {
        long store(String id, byte[] tensors) throws Exception;
    }

    private EngineThread.Export held;
    private Map<String, byte[]> tensors;
    private long startNanos;

    /** Pauses the engine and waits for its export of the given requests' caches. */
    void pause(EngineThread engine, Collection<String> ids) throws Exception {
        resume();
        startNanos = System.nanoTime();
        held = engine.export(ids);
        try {
            tensors = held.result().get(10, TimeUnit.MINUTES);
        } catch (Exception e) {
            resume();
            throw e;
        }
    }

    boolean paused() {
        return held != null;
    }

    /**
     * Stores the held export and lets the engine go on.
     *
     * @return {bytes stored, milliseconds since the pause}
     */
    double[] store(Store store) throws Exception {
        try {
            long bytes = 0;
            for (Map.Entry<String, byte[]> e : tensors.entrySet()) {
                bytes += store.store(e.getKey(), e.getValue());
            }
            return new double[] {bytes, (System.nanoTime() - startNanos) / 1e6};
        } finally {
            resume();
        }
    }

    /** Lets a paused engine go on (also when a checkpoint was abandoned between its two phases). */
    void resume() {
        if (held != null) {
            held.release();
            held = null;
            tensors = null;
        }
    }
}

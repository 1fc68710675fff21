package dev.specdec.job.decode;

/**
 * Share of wall time the engine thread spent in model calls over the last few seconds. Flink's own
 * busy and backpressure gauges only see the task thread, which is idle while the engine works, so
 * without this gauge a saturated decode operator looks idle in the dashboard.
 */
final class EngineUtilisation {
    private static final long WINDOW_NANOS = 2_000_000_000L;

    private volatile long windowStart = System.nanoTime();
    private volatile long busyInWindow;
    private volatile double lastWindow;

    /** Called on the task thread for every engine call, with its busy time. */
    void add(long busyNanos) {
        long now = System.nanoTime();
        long busy = busyInWindow + busyNanos;
        long span = now - windowStart;
        if (span >= WINDOW_NANOS) {
            lastWindow = Math.min(1.0, (double) busy / span);
            windowStart = now;
            busyInWindow = 0;
        } else {
            busyInWindow = busy;
        }
    }

    /** The last full window's share, or the running one once the engine has been idle for a window. */
    double value() {
        long span = System.nanoTime() - windowStart;
        if (span >= 2 * WINDOW_NANOS) {
            return Math.min(1.0, (double) busyInWindow / span);
        }
        return lastWindow;
    }
}

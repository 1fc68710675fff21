package dev.specdec.engine.model;

/**
 * Counts the engine's calls into native code (PyTorch through DJL's JNI layer) and, while timing is
 * on, the time spent inside them: what {@code bench-engine} reports per step as native calls, time
 * in native code and time in Java. The eager forward counts through {@link Ops}, the compiled
 * forward through its own glue. Approximate when several threads call at once.
 */
public final class NativeCalls {
    private static long calls;
    private static long nanos;
    private static volatile boolean timing;

    private NativeCalls() {
    }

    public static long calls() {
        return calls;
    }

    /** Time spent in counted native calls while timing was on. */
    public static long nanos() {
        return nanos;
    }

    /** Times every counted call from now on (two clock reads each); off by default. */
    public static void timing(boolean on) {
        timing = on;
    }

    /** Before a native call: counts it; returns its start time when timing, else 0. */
    static long enter() {
        calls++;
        return timing ? System.nanoTime() : 0;
    }

    /** After a native call started at {@code start} ({@link #enter}). */
    static void leave(long start) {
        if (start != 0) {
            nanos += System.nanoTime() - start;
        }
    }

    static <T> T leave(long start, T result) {
        leave(start);
        return result;
    }

    /** Counts {@code n} small native calls that are not timed one by one (tensor creation, handles). */
    static void count(int n) {
        calls += n;
    }
}

package dev.specdec.engine;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * PyTorch's intra-op thread count: how many threads one model call spreads its arithmetic over.
 *
 * <p>PyTorch keeps the count per calling thread (OpenMP) and a process-wide default that threads
 * take on their first model call. {@link #use} sets both, so it must run on the thread that makes
 * the model calls: an engine thread calls it before its first call.
 *
 * <p>Why a stream processor wants fewer threads than cores: the threads of one model call meet at
 * a barrier after every operation, so whenever another thread of the process (a Flink task, the
 * JIT compiler, the garbage collector) takes one of their cores, all of them wait. On a 2-core
 * machine the Flink job lost 13-33% of the engine's throughput that way with two threads and none
 * with one (BENCHMARKS.md); {@link #forSlots} leaves one core to the rest of the process.
 */
public final class TorchThreads {
    private TorchThreads() {
    }

    /** The calling thread's intra-op thread count. */
    public static int current() {
        Engine.getEngine("PyTorch");
        return JniUtils.getNumThreads();
    }

    /** Sets the intra-op thread count of the calling thread and the default of threads yet to start. */
    public static void use(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("intra-op threads must be at least 1, got " + threads);
        }
        Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(threads);
    }

    /**
     * Threads of a command's engine on a machine with {@code cores} cores: the Flink rule with one
     * slot, so every command (engine and job) follows one policy.
     */
    public static int forCommand(int cores) {
        return forSlots(cores, 1);
    }

    /**
     * Threads per engine when {@code slots} engines share {@code cores} cores with the rest of a
     * Flink TaskManager: one core stays free for Flink's own threads, the others are split evenly,
     * and every engine gets at least one.
     */
    public static int forSlots(int cores, int slots) {
        if (cores < 1 || slots < 1) {
            throw new IllegalArgumentException("cores and slots must be positive, got " + cores + " and " + slots);
        }
        return Math.max(1, (cores - 1) / slots);
    }
}

package dev.specdec.job;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fails its task once, the first time a record passes after at least {@code afterCheckpoints}
 * checkpoints completed and {@code afterRecords} records were seen (per attempt). Its flags are
 * static (tests run the MiniCluster in this JVM) and keyed by a name, so they survive the restart
 * the failure causes, and the test can check that the failure really happened.
 */
public final class FailOnce<T> implements MapFunction<T, T>, CheckpointListener {
    private static final long serialVersionUID = 1L;
    private static final Map<String, AtomicBoolean> FAILED = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> SEEN_BEFORE_FAILURE = new ConcurrentHashMap<>();

    private final String name;
    private final int afterCheckpoints;
    private final int afterRecords;
    private transient int checkpoints;
    private transient int seen;

    public FailOnce(String name, int afterCheckpoints, int afterRecords) {
        this.name = name;
        this.afterCheckpoints = afterCheckpoints;
        this.afterRecords = afterRecords;
        FAILED.put(name, new AtomicBoolean());
        SEEN_BEFORE_FAILURE.put(name, new AtomicInteger());
    }

    public static boolean failed(String name) {
        return FAILED.get(name).get();
    }

    @Override
    public T map(T value) {
        seen++;
        AtomicBoolean f = FAILED.get(name);
        if (!f.get() && checkpoints >= afterCheckpoints && seen >= afterRecords) {
            f.set(true);
            SEEN_BEFORE_FAILURE.get(name).set(seen);
            throw new IllegalStateException("injected failure (" + name + ") after " + seen + " records");
        }
        return value;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        checkpoints++;
    }
}

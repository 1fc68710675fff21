package dev.specdec.job.pipeline;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.core.execution.CheckpointingMode;

import java.time.Duration;

/**
 * The Flink settings the job relies on, in one place:
 * <ul>
 *   <li>hash-map (heap) state backend: keyed state is read by reference on the hot path;</li>
 *   <li>exactly-once checkpoints, unaligned, so barriers overtake records queued behind a busy
 *       decode operator and a checkpoint never waits for a model step;</li>
 *   <li>snapshot compression (restoring uncompressed float arrays was 100x slower);</li>
 *   <li>checkpoints to a file system folder (the in-memory default caps state at a few MB);</li>
 *   <li>exponential-delay restarts (1 s doubling to 1 min, reset after an hour of running), without a
 *       lifetime limit unless one is given: a broker outage of any length is waited out, as Flink's
 *       own default does; a few failed checkpoints in a row are tolerated;</li>
 *   <li>no silent Kryo fallback: every type has its own serializer.</li>
 * </ul>
 */
public final class JobEnvironment {
    private JobEnvironment() {
    }

    /** Failed checkpoints in a row the job tolerates before it restarts. */
    public static final int TOLERABLE_CHECKPOINT_FAILURES = 5;

    /**
     * @param restartAttempts restarts in a row (without an hour of running between them) before the job
     *                        fails: negative for no limit, 0 for none (tests that must see a failure)
     */
    public static Configuration configuration(Duration checkpointInterval, String checkpointDir, int restartAttempts) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "hashmap");
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, checkpointInterval);
        conf.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.EXACTLY_ONCE);
        conf.set(CheckpointingOptions.ENABLE_UNALIGNED, true);
        conf.set(CheckpointingOptions.ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH, true);
        conf.set(ExecutionOptions.SNAPSHOT_COMPRESSION, true);
        if (checkpointDir != null) {
            checkpointsIn(conf, checkpointDir);
        }
        conf.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, TOLERABLE_CHECKPOINT_FAILURES);
        restarts(conf, restartAttempts);
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        return conf;
    }

    /** Checkpoints to a file system folder, given as a URI (the in-memory default caps state at a few MB). */
    public static void checkpointsIn(Configuration conf, String dirUri) {
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dirUri);
    }

    /**
     * The restart strategy: exponential delay (1 s doubling to 1 min, reset after an hour of running)
     * for {@code restartAttempts} restarts in a row, negative for no limit, 0 for none.
     */
    public static void restarts(Configuration conf, int restartAttempts) {
        if (restartAttempts == 0) {
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
            return;
        }
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF, Duration.ofSeconds(1));
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF, Duration.ofMinutes(1));
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER, 2.0);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD, Duration.ofHours(1));
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_JITTER_FACTOR, 0.1);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS,
                restartAttempts < 0 ? Integer.MAX_VALUE : restartAttempts);
    }

    /**
     * Settings of the local (in-process) cluster of the commands: slots and the dashboard port. Every
     * server it starts (REST, blob server, RPC, data exchange) listens on 127.0.0.1 only; the
     * dashboard's jar upload and run handlers are off (they execute code for whoever reaches them),
     * and the REST API answers only pages served from its own origin.
     */
    public static Configuration local(Configuration conf, int slots, int webPort) {
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
        conf.set(RestOptions.BIND_ADDRESS, LOOPBACK);
        conf.set(RestOptions.ADDRESS, LOOPBACK);
        conf.set(RestOptions.PORT, webPort);
        conf.set(JobManagerOptions.ADDRESS, LOOPBACK);
        conf.set(JobManagerOptions.BIND_HOST, LOOPBACK);
        conf.set(TaskManagerOptions.HOST, LOOPBACK);
        conf.set(TaskManagerOptions.BIND_HOST, LOOPBACK);
        conf.set(WebOptions.SUBMIT_ENABLE, false);
        conf.set(WebOptions.ACCESS_CONTROL_ALLOW_ORIGIN, "http://" + LOOPBACK + ":" + webPort);
        return conf;
    }

    private static final String LOOPBACK = "127.0.0.1";
}

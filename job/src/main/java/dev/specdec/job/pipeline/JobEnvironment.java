package dev.specdec.job.pipeline;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
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
 *   <li>a bounded fixed-delay restart strategy, so a persistent failure ends the job;</li>
 *   <li>no silent Kryo fallback: every type has its own serializer.</li>
 * </ul>
 */
public final class JobEnvironment {
    private JobEnvironment() {
    }

    public static Configuration configuration(Duration checkpointInterval, String checkpointDir, int restartAttempts) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "hashmap");
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, checkpointInterval);
        conf.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.EXACTLY_ONCE);
        conf.set(CheckpointingOptions.ENABLE_UNALIGNED, true);
        conf.set(CheckpointingOptions.ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH, true);
        conf.set(ExecutionOptions.SNAPSHOT_COMPRESSION, true);
        if (checkpointDir != null) {
            conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir);
        }
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, restartAttempts);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(500));
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        return conf;
    }

    /** Settings of the local (in-process) cluster of the commands: slots, dashboard address. */
    public static Configuration local(Configuration conf, int slots, int webPort) {
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.PORT, webPort);
        return conf;
    }
}

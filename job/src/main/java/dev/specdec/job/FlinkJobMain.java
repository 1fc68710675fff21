package dev.specdec.job;

import dev.specdec.job.records.RequestJson;
import dev.specdec.job.cli.DecodeOptions;
import dev.specdec.job.cli.DurationConverter;
import dev.specdec.job.cli.KafkaOptions;
import dev.specdec.engine.cli.SamplingOptions;
import dev.specdec.job.pipeline.JobEnvironment;
import dev.specdec.job.pipeline.KafkaEndpoint;
import dev.specdec.job.pipeline.StreamingJob;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * Main class of the job jar, for {@code flink run}: builds the streaming job and submits it to the
 * cluster the Flink client points at. The model folder must exist on every TaskManager, and the
 * PyTorch native libraries must be installed there (the jar leaves them out); set
 * {@code DJL_OFFLINE=true} and {@code OPT_OUT_TRACKING=true} in the TaskManagers' environment.
 *
 * <pre>
 * flink run -c dev.specdec.job.FlinkJobMain specdec-job-0.1.0-SNAPSHOT-flink.jar \
 *     --bootstrap-servers kafka:9092 --model /opt/models/kjv-llama-12m --parallelism 2
 * </pre>
 */
@Command(name = "specdec-job", mixinStandardHelpOptions = true,
        description = "Submit the specdec streaming job (Kafka in, speculative decoding, Kafka out) to a Flink cluster.")
public final class FlinkJobMain implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Mixin
    DecodeOptions decode;

    @Mixin
    SamplingOptions sampling;

    @Spec
    CommandSpec spec;

    @Option(names = "--parallelism", defaultValue = "1",
            description = "Decode subtasks (default: the cluster's parallelism.default; ${DEFAULT-VALUE} without one).")
    int parallelism;

    @Option(names = "--checkpoint-interval", defaultValue = "5s", converter = DurationConverter.class,
            description = "Checkpoint interval (default: the cluster's; ${DEFAULT-VALUE} when the cluster has none).")
    Duration checkpointInterval;

    @Option(names = "--checkpoint-dir", description = "Checkpoint folder URI (default: the cluster's execution.checkpointing.dir).")
    String checkpointDir;

    @Option(names = "--restart-attempts", defaultValue = "-1",
            description = {"Restarts in a row (exponential delay, 1 s to 1 min) before the job fails; -1: no limit",
                    "(default: the cluster's restart strategy)."})
    int restartAttempts;

    /**
     * The cluster's settings (the Flink client read its config.yaml) hold; only the flags given change
     * them. Checkpointing is the exception: without it the exactly-once sink never commits a
     * result, so a cluster without a checkpoint interval gets the default one.
     */
    @Override
    public Integer call() throws Exception {
        KafkaEndpoint endpoint = kafka.endpoint();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        ParseResult given = spec.commandLine().getParseResult();
        Configuration overrides = new Configuration();
        if (given.hasMatchedOption("--checkpoint-interval") || !env.getCheckpointConfig().isCheckpointingEnabled()) {
            overrides.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, checkpointInterval);
        }
        if (checkpointDir != null) {
            JobEnvironment.checkpointsIn(overrides, checkpointDir);
        }
        if (given.hasMatchedOption("--restart-attempts")) {
            JobEnvironment.restarts(overrides, restartAttempts);
        }
        overrides.set(PipelineOptions.GENERIC_TYPES, false);
        env.configure(overrides);
        if (given.hasMatchedOption("--parallelism") || env.getParallelism() < 1) {
            env.setParallelism(parallelism);
        }
        StreamingJob.attach(env, endpoint, decode.clusterSettings(), sampling.toParams(RequestJson.DEFAULT_MAX_NEW_TOKENS),
                decode.limits(), env.getParallelism());
        env.execute("specdec: " + endpoint.inputTopic() + " -> " + endpoint.outputTopic());
        return 0;
    }

    /** Does not call System.exit: under {@code flink run} the client JVM must finish on its own. */
    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new FlinkJobMain());
        int code = cl.execute(args);
        if (code != 0) {
            throw new IllegalStateException("specdec-job failed with exit code " + code);
        }
    }
}

package dev.specdec.job.cli;

import dev.specdec.engine.cli.SamplingOptions;
import dev.specdec.job.cluster.LocalCluster;
import dev.specdec.job.cluster.SessionJobs;
import dev.specdec.job.pipeline.KafkaEndpoint;
import dev.specdec.job.pipeline.StreamingJob;
import dev.specdec.job.records.RequestJson;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code specdec cluster-local}: the streaming job on a Flink session cluster of separate processes
 * on this machine (a Kafka broker, a JobManager, TaskManagers with one slot each), submitted through
 * the REST API, as it runs on a real cluster. A dead TaskManager is started again; Ctrl-C stops the
 * job with a savepoint and then every process; started again on the same state folder, the job
 * resumes from the newest savepoint or checkpoint there.
 */
@Command(name = "cluster-local", mixinStandardHelpOptions = true,
        description = {"Run the streaming job on a local Flink session cluster of separate processes:",
                "a Kafka broker, a JobManager and TaskManagers, all on 127.0.0.1."})
public final class ClusterLocalCommand implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "9092", description = "Kafka broker port on 127.0.0.1 (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--web-port", defaultValue = "8081", description = "Flink dashboard and REST port (default ${DEFAULT-VALUE}).")
    int webPort;

    @Option(names = "--task-managers", defaultValue = "2", description = "TaskManager processes, one slot each (default ${DEFAULT-VALUE}).")
    int taskManagers;

    @Option(names = "--parallelism", description = "Decode subtasks (default: one per TaskManager).")
    Integer parallelism;

    @Option(names = "--state-dir", defaultValue = "cluster-local",
            description = {"Folder for the broker's data, checkpoints, savepoints, logs and pids.json; started again on",
                    "it, the job resumes (default ${DEFAULT-VALUE})."})
    Path stateDir;

    @Option(names = "--checkpoint-interval", defaultValue = "2s", converter = DurationConverter.class,
            description = "Checkpoint interval (default ${DEFAULT-VALUE}).")
    Duration checkpointInterval;

    @Option(names = "--chunk-topic", defaultValue = "chunks",
            description = "Topic for partial output; empty: none (default ${DEFAULT-VALUE}).")
    String chunkTopic;

    @Mixin
    OutputFormatOption output;

    @Mixin
    DecodeOptions decode;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() throws Exception {
        if (taskManagers < 1) {
            throw new IllegalArgumentException("--task-managers must be at least 1");
        }
        int p = parallelism != null ? parallelism : taskManagers;
        if (p < 1 || p > taskManagers) {
            throw new IllegalArgumentException("--parallelism must be between 1 and --task-managers (" + taskManagers + ")");
        }
        var settings = decode.settings();
        Path state = stateDir.toAbsolutePath();
        System.err.println("specdec cluster-local: starting Kafka, a JobManager and " + taskManagers + " TaskManagers in " + state);
        try (LocalCluster cluster = LocalCluster.start(state, taskManagers, port, webPort, checkpointInterval, System.err)) {
            KafkaEndpoint endpoint = new KafkaEndpoint(cluster.bootstrapServers(), "prompts", "results", "dead-letters",
                    "specdec", "specdec-cluster-local", Duration.ofMinutes(10), KafkaEndpoint.chunkTopicOrNone(chunkTopic))
                    .withOutputFormat(output.format());
            LocalKafkaBroker.createTopics(cluster.bootstrapServers(), java.util.Map.of(), endpoint.topics(), p);
            Optional<Path> resume = LocalCheckpoints.latest(state.resolve("savepoints"), state.resolve("checkpoints"));
            resume.ifPresent(r -> System.err.println("specdec cluster-local: resuming from " + r));
            StreamExecutionEnvironment env = SessionJobs.environment("127.0.0.1", webPort,
                    SessionJobs.restoringFrom(SessionJobs.clusterSettings("127.0.0.1", webPort), resume.orElse(null)), List.of());
            env.setParallelism(p);
            StreamingJob.attach(env, endpoint, settings, sampling.toParams(RequestJson.DEFAULT_MAX_NEW_TOKENS),
                    decode.limits(), p);
            JobClient job = env.executeAsync("specdec cluster-local");
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(job, cluster, state, stopped), "specdec-cluster-stop"));
            System.out.println("bootstrap: " + cluster.bootstrapServers());
            System.out.println("dashboard: http://127.0.0.1:" + webPort);
            System.out.println("job: " + job.getJobID() + " (parallelism " + p + ")");
            System.out.println("processes: " + state.resolve("pids.json") + "; logs: " + state.resolve("flink/log"));
            System.out.println("metrics: " + LocalCluster.prometheus(0) + " (TaskManager 0; TaskManager i on that port + i)");
            System.out.flush();
            java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
            job.getJobExecutionResult().whenComplete((r, e) -> {
                failure.set(e);
                stopped.countDown();
            });
            stopped.await();
            if (failure.get() != null) {
                throw JobFailure.of("the streaming job", new java.util.concurrent.ExecutionException(failure.get()));
            }
            return 0;
        }
    }

    /** On Ctrl-C: a savepoint (so the next start resumes exactly there), then every process. */
    private static void stop(JobClient job, LocalCluster cluster, Path state, CountDownLatch stopped) {
        try {
            Path savepoint = SessionJobs.stopWithSavepoint(job, state.resolve("savepoints"));
            System.err.println("specdec cluster-local: savepoint " + savepoint);
        } catch (Exception e) {
            System.err.println("specdec cluster-local: no savepoint (" + e.getMessage() + "); the next start resumes"
                    + " from the newest checkpoint");
        }
        try {
            cluster.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopped.countDown();
    }
}

package dev.specdec.job.cli;

import dev.specdec.engine.cli.SamplingOptions;
import dev.specdec.job.records.RequestJson;
import dev.specdec.job.pipeline.KafkaEndpoint;
import dev.specdec.job.pipeline.StreamingJob;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code specdec serve-local}: a real single-node Kafka broker in this process, its topics, and the
 * streaming job reading from it, for trying the Kafka path on one machine. Prints the bootstrap
 * address once the broker answers and the job runs; stops on Ctrl-C.
 */
@Command(name = "serve-local", mixinStandardHelpOptions = true,
        description = {"Start a local Kafka broker (KRaft, in-process) and the streaming job on it.",
                "Then: specdec submit --bootstrap-servers ADDRESS --prompt TEXT; specdec tail --bootstrap-servers ADDRESS."})
public final class ServeLocalCommand implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "9092", description = "Broker port on 127.0.0.1; 0 = any free port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--data-dir", description = "Broker data folder, kept between runs (default: a temporary folder).")
    Path dataDir;

    @Option(names = "--partitions", defaultValue = "1", description = "Partitions of the prompts topic (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--input-topic", defaultValue = "prompts", description = "Default ${DEFAULT-VALUE}.")
    String inputTopic;

    @Option(names = "--output-topic", defaultValue = "results", description = "Default ${DEFAULT-VALUE}.")
    String outputTopic;

    @Option(names = "--dead-letter-topic", defaultValue = "dead-letters", description = "Default ${DEFAULT-VALUE}.")
    String deadLetterTopic;

    @Option(names = "--chunk-topic", defaultValue = "chunks",
            description = "Topic for partial output (TokenChunks as tokens are decoded); empty: none (default ${DEFAULT-VALUE}).")
    String chunkTopic;

    @Mixin
    DecodeOptions decode;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    ClusterOptions cluster;

    @Override
    public Integer call() throws Exception {
        var settings = decode.settings();
        var defaults = sampling.toParams(RequestJson.DEFAULT_MAX_NEW_TOKENS);
        System.err.println("specdec serve-local: starting a Kafka broker on 127.0.0.1:" + (port == 0 ? "<any>" : port) + " ...");
        try (LocalKafkaBroker broker = LocalKafkaBroker.start(port, dataDir)) {
            String chunks = chunkTopic == null || chunkTopic.isBlank() ? null : chunkTopic;
            List<String> topics = new java.util.ArrayList<>(List.of(inputTopic, outputTopic, deadLetterTopic));
            if (chunks != null) {
                topics.add(chunks);
            }
            broker.createTopics(topics, partitions);
            KafkaEndpoint endpoint = new KafkaEndpoint(broker.bootstrapServers(), inputTopic, outputTopic, deadLetterTopic,
                    "specdec", "specdec-local", Duration.ofMinutes(10), chunks);
            Configuration conf = cluster.configuration("serve");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
            env.setParallelism(cluster.parallelism());
            StreamingJob.attach(env, endpoint, settings, defaults, decode.limits(), cluster.parallelism());
            JobClient job = env.executeAsync("specdec serve-local");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    job.cancel().get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    // shutting down anyway
                }
                broker.close();
            }, "specdec-serve-local-shutdown"));
            awaitRunning(job);
            System.out.println("bootstrap: " + broker.bootstrapServers());
            System.out.println("topics: " + inputTopic + " (requests), " + outputTopic + " (results), " + deadLetterTopic
                    + " (dead letters)" + (chunks == null ? "" : ", " + chunks + " (partial output; tail --chunks)"));
            System.out.println("dashboard: http://127.0.0.1:" + cluster.webPort());
            System.out.println("try: bin/specdec submit --bootstrap-servers " + broker.bootstrapServers()
                    + " --prompt 'And God said'  then  bin/specdec tail --bootstrap-servers " + broker.bootstrapServers()
                    + " --count 1");
            System.out.flush();
            try {
                job.getJobExecutionResult().get();
            } catch (java.util.concurrent.ExecutionException e) {
                throw JobFailure.of("the streaming job", e);
            }
            return 0;
        }
    }

    private static void awaitRunning(JobClient job) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < deadline) {
            JobStatus s = job.getJobStatus().get(10, TimeUnit.SECONDS);
            if (s == JobStatus.RUNNING) {
                return;
            }
            if (s.isGloballyTerminalState()) {
                job.getJobExecutionResult().get();   // reports why it ended
                throw new IllegalStateException("the job ended before it started running: " + s);
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the job did not start running within 5 minutes");
    }
}

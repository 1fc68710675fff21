package dev.specdec.job.cli;

import dev.specdec.engine.cli.SamplingOptions;
import dev.specdec.job.gateway.OpenAiGateway;
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

    @Option(names = "--state-dir",
            description = {"Folder for everything that must survive a crash: the broker's data (kafka/) and the",
                    "job's checkpoints (checkpoints/). Started again on it, serve-local resumes where it",
                    "stopped, even after kill -9: each request gets one result (default: temporary folders)."})
    Path stateDir;

    @Option(names = "--data-dir", description = "Broker data folder only, kept between runs (default: STATE-DIR/kafka, or a temporary folder).")
    Path dataDir;

    @Option(names = "--sasl-plain", paramLabel = "USER:PASSWORD",
            description = {"Require SASL/PLAIN logins on the broker, as a secured cluster would; the client settings",
                    "are written to a file for submit and tail (--kafka-config FILE)."})
    String saslPlain;

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

    @Option(names = "--gateway-port",
            description = {"Also serve the OpenAI API (completions, chat, streaming) on 127.0.0.1:PORT; 0 = any free",
                    "port (default: no gateway). See specdec gateway for the same server in front of any job."})
    Integer gatewayPort;

    @Mixin
    GatewayOptions gateway;

    @Mixin
    OutputFormatOption output;

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
        Path brokerData = dataDir != null ? dataDir : stateDir != null ? stateDir.resolve("kafka") : null;
        LocalKafkaBroker.PlainLogin login = saslPlain == null ? null : LocalKafkaBroker.PlainLogin.parse(saslPlain);
        try (LocalKafkaBroker broker = LocalKafkaBroker.start(port, brokerData, login)) {
            String chunks = KafkaEndpoint.chunkTopicOrNone(chunkTopic);
            KafkaEndpoint endpoint = new KafkaEndpoint(broker.bootstrapServers(), inputTopic, outputTopic, deadLetterTopic,
                    "specdec", "specdec-local", Duration.ofMinutes(10), chunks, broker.clientProperties(), output.format());
            broker.createTopics(endpoint.topics(), partitions);
            Configuration conf = stateDir != null ? cluster.configuration(stateDir.resolve("checkpoints"), true)
                    : cluster.configuration("serve");
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
            OpenAiGateway api = startGateway(broker, endpoint);
            String client = "";
            if (login != null) {
                Path file = writeClientConfig(broker, stateDir);
                System.out.println("client settings: " + file + " (SASL/PLAIN as " + login.user() + ")");
                client = " --kafka-config " + file;
            }
            System.out.println("try: bin/specdec submit --bootstrap-servers " + broker.bootstrapServers() + client
                    + " --prompt 'And God said'  then  bin/specdec tail --bootstrap-servers " + broker.bootstrapServers()
                    + client + " --count 1");
            System.out.flush();
            try (api) {
                job.getJobExecutionResult().get();
            } catch (java.util.concurrent.ExecutionException e) {
                throw JobFailure.of("the streaming job", e);
            }
            return 0;
        }
    }

    /** The OpenAI gateway on the job's topics, or null without --gateway-port. */
    private OpenAiGateway startGateway(LocalKafkaBroker broker, KafkaEndpoint endpoint) throws Exception {
        if (gatewayPort == null) {
            return null;
        }
        var settings = gateway.settings("127.0.0.1", gatewayPort, decode.modelDir().toAbsolutePath().normalize()
                        .getFileName().toString(), broker.bootstrapServers(), inputTopic, outputTopic,
                KafkaEndpoint.chunkTopicOrNone(chunkTopic), broker.clientProperties());
        OpenAiGateway api = OpenAiGateway.start(settings);
        if (!api.awaitReady(60_000)) {
            api.close();
            throw new IllegalStateException("the gateway could not read the job's topics within a minute");
        }
        System.out.println("openai: http://127.0.0.1:" + api.port() + "/v1 (model '" + settings.servedModel() + "')");
        return api;
    }

    /** The broker's client settings as a properties file only this user can read (it holds the password). */
    private static Path writeClientConfig(LocalKafkaBroker broker, Path stateDir) throws java.io.IOException {
        Path dir = stateDir != null ? stateDir : TempDirs.create("specdec-serve-local-client");
        java.nio.file.Files.createDirectories(dir);
        Path file = dir.resolve("client.properties");
        java.util.Properties p = new java.util.Properties();
        p.putAll(broker.clientProperties());
        java.nio.file.Files.deleteIfExists(file);
        java.nio.file.Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        try (var w = java.nio.file.Files.newBufferedWriter(file, java.nio.charset.StandardCharsets.UTF_8)) {
            p.store(w, "Kafka client settings for specdec serve-local's broker");
        }
        return file.toAbsolutePath();
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

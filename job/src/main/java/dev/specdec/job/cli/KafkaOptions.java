package dev.specdec.job.cli;

import dev.specdec.job.pipeline.KafkaEndpoint;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;

import java.time.Duration;

/** Topics, consumer group and transactions of the streaming job. */
public final class KafkaOptions {
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers, e.g. 127.0.0.1:9092.")
    String bootstrapServers;

    @Option(names = "--input-topic", defaultValue = "prompts", description = "Topic of requests (default ${DEFAULT-VALUE}).")
    String inputTopic;

    @Option(names = "--output-topic", defaultValue = "results", description = "Topic of results (default ${DEFAULT-VALUE}).")
    String outputTopic;

    @Option(names = "--dead-letter-topic", description = "Topic for unreadable records (default: the task log).")
    String deadLetterTopic;

    @Option(names = "--chunk-topic",
            description = {"Topic for partial output: a TokenChunk per request and decoding step, at least once and",
                    "without waiting for checkpoints (default: no streaming)."})
    String chunkTopic;

    @Mixin
    OutputFormatOption output;

    @Option(names = "--group-id", defaultValue = "specdec", description = "Consumer group of the job (default ${DEFAULT-VALUE}).")
    String groupId;

    @Option(names = "--transactional-id-prefix", defaultValue = "specdec",
            description = "Prefix of the sink's transactional ids; unique per job on a cluster (default ${DEFAULT-VALUE}).")
    String transactionalIdPrefix;

    @Option(names = "--transaction-timeout", defaultValue = "10m", converter = DurationConverter.class,
            description = "Producer transaction timeout, at most the broker's transaction.max.timeout.ms (default ${DEFAULT-VALUE}).")
    Duration transactionTimeout;

    @Mixin
    KafkaClientOptions client;

    public KafkaEndpoint endpoint() throws IOException {
        return new KafkaEndpoint(bootstrapServers, inputTopic, outputTopic, deadLetterTopic, groupId,
                transactionalIdPrefix, transactionTimeout, chunkTopic, client.properties(), output.format());
    }
}

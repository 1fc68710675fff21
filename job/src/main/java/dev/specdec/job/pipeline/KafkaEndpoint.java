package dev.specdec.job.pipeline;

import dev.specdec.job.records.OutputFormat;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Where and how the streaming job talks to Kafka.
 *
 * @param transactionTimeout the KafkaSink's producer transaction timeout; it must not exceed the
 *                           broker's {@code transaction.max.timeout.ms} (15 minutes by default,
 *                           while the sink's own default of 1 hour is rejected by such brokers)
 * @param chunkTopic         where partial output streams ({@code TokenChunk}s, at least once); null: not streamed
 * @param clientProperties   settings for every Kafka client of the job (TLS, SASL, timeouts), applied
 *                           before the job's own; its {@link #toString} masks their values
 * @param outputFormat       how results and chunks are written (dead letters are always Avro)
 */
public record KafkaEndpoint(String bootstrapServers, String inputTopic, String outputTopic, String deadLetterTopic,
                            String groupId, String transactionalIdPrefix, Duration transactionTimeout,
                            String chunkTopic, Map<String, String> clientProperties, OutputFormat outputFormat)
        implements Serializable {
    /** A broker's default transaction.max.timeout.ms. */
    public static final Duration BROKER_DEFAULT_MAX_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

    public KafkaEndpoint {
        require(bootstrapServers, "bootstrap servers");
        require(inputTopic, "input topic");
        require(outputTopic, "output topic");
        require(groupId, "consumer group id");
        require(transactionalIdPrefix, "transactional id prefix");
        if (transactionTimeout == null || transactionTimeout.isZero() || transactionTimeout.isNegative()) {
            throw new IllegalArgumentException("the transaction timeout must be positive");
        }
        if (transactionTimeout.compareTo(BROKER_DEFAULT_MAX_TRANSACTION_TIMEOUT) > 0) {
            throw new IllegalArgumentException("a transaction timeout of " + transactionTimeout.toSeconds()
                    + " s exceeds the broker default transaction.max.timeout.ms of 15 minutes");
        }
        if (inputTopic.equals(outputTopic)) {
            throw new IllegalArgumentException("input and output topics must differ");
        }
        if (chunkTopic != null && (chunkTopic.isBlank() || chunkTopic.equals(inputTopic) || chunkTopic.equals(outputTopic)
                || chunkTopic.equals(deadLetterTopic))) {
            throw new IllegalArgumentException("the chunk topic must be a topic of its own, got '" + chunkTopic + "'");
        }
        Objects.requireNonNull(outputFormat, "output format");
        // A sorted copy that serializes with the job graph and cannot change behind the job's back.
        clientProperties = Collections.unmodifiableMap(new TreeMap<>(clientProperties == null ? Map.of() : clientProperties));
    }

    /** An endpoint writing Avro. */
    public KafkaEndpoint(String bootstrapServers, String inputTopic, String outputTopic, String deadLetterTopic,
                         String groupId, String transactionalIdPrefix, Duration transactionTimeout, String chunkTopic,
                         Map<String, String> clientProperties) {
        this(bootstrapServers, inputTopic, outputTopic, deadLetterTopic, groupId, transactionalIdPrefix,
                transactionTimeout, chunkTopic, clientProperties, OutputFormat.AVRO);
    }

    public KafkaEndpoint(String bootstrapServers, String inputTopic, String outputTopic, String deadLetterTopic,
                         String groupId, String transactionalIdPrefix, Duration transactionTimeout, String chunkTopic) {
        this(bootstrapServers, inputTopic, outputTopic, deadLetterTopic, groupId, transactionalIdPrefix,
                transactionTimeout, chunkTopic, Map.of());
    }

    /** An endpoint without streaming of partial output. */
    public KafkaEndpoint(String bootstrapServers, String inputTopic, String outputTopic, String deadLetterTopic,
                         String groupId, String transactionalIdPrefix, Duration transactionTimeout) {
        this(bootstrapServers, inputTopic, outputTopic, deadLetterTopic, groupId, transactionalIdPrefix,
                transactionTimeout, null);
    }

    /** The same endpoint, streaming partial output to {@code topic} (null: not streamed). */
    public KafkaEndpoint withChunkTopic(String topic) {
        return new KafkaEndpoint(bootstrapServers, inputTopic, outputTopic, deadLetterTopic, groupId,
                transactionalIdPrefix, transactionTimeout, topic, clientProperties, outputFormat);
    }

    /** Every topic the job reads or writes: input, output, and the dead-letter and chunk topics if set. */
    public List<String> topics() {
        List<String> out = new ArrayList<>(List.of(inputTopic, outputTopic));
        if (deadLetterTopic != null) {
            out.add(deadLetterTopic);
        }
        if (chunkTopic != null) {
            out.add(chunkTopic);
        }
        return out;
    }

    /** A chunk topic flag's value: empty or blank means no streaming of partial output. */
    public static String chunkTopicOrNone(String flag) {
        return flag == null || flag.isBlank() ? null : flag;
    }

    /** The same endpoint, its clients configured with {@code properties} as well. */
    public KafkaEndpoint withClientProperties(Map<String, String> properties) {
        return new KafkaEndpoint(bootstrapServers, inputTopic, outputTopic, deadLetterTopic, groupId,
                transactionalIdPrefix, transactionTimeout, chunkTopic, properties, outputFormat);
    }

    /** The same endpoint, writing results and chunks in {@code format}. */
    public KafkaEndpoint withOutputFormat(OutputFormat format) {
        return new KafkaEndpoint(bootstrapServers, inputTopic, outputTopic, deadLetterTopic, groupId,
                transactionalIdPrefix, transactionTimeout, chunkTopic, clientProperties, format);
    }

    /** Names the client settings without their values: they hold passwords and keys. */
    @Override
    public String toString() {
        return "KafkaEndpoint[" + bootstrapServers + ", in=" + inputTopic + ", out=" + outputTopic + ", dead="
                + deadLetterTopic + ", chunks=" + chunkTopic + ", group=" + groupId + ", format=" + outputFormat
                + ", client settings=" + clientProperties.keySet() + "]";
    }

    private static void require(String v, String what) {
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("the " + what + " must be set");
        }
    }
}

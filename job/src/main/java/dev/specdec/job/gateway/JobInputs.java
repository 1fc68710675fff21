package dev.specdec.job.gateway;

import dev.specdec.job.records.RecordCodec;
import dev.specdec.records.GenerationRequest;
import dev.specdec.records.RequestAction;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The gateway's writes to the job's requests topic: requests and cancellations, Avro single-object
 * encoded and keyed by request id (so a cancellation lands in its request's partition, after it).
 */
final class JobInputs implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobInputs.class);

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final RecordCodec<GenerationRequest> codec = RecordCodec.requests();

    JobInputs(String bootstrapServers, String topic, Map<String, String> clientProperties) {
        Map<String, Object> config = new HashMap<>(clientProperties);
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        this.producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = topic;
    }

    /** Completes when the broker has the request (or fails when it cannot take it). */
    CompletableFuture<Void> send(GenerationRequest request) {
        CompletableFuture<Void> sent = new CompletableFuture<>();
        try {
            producer.send(record(request), (meta, error) -> {
                if (error == null) {
                    sent.complete(null);
                } else {
                    sent.completeExceptionally(error);
                }
            });
        } catch (RuntimeException e) {
            sent.completeExceptionally(e);
        }
        return sent;
    }

    void cancel(String requestId) {
        GenerationRequest cancel = GenerationRequest.newBuilder().setRequestId(requestId)
                .setAction(RequestAction.CANCEL).setSubmitTimeMs(java.time.Instant.ofEpochMilli(System.currentTimeMillis())).build();
        send(cancel).whenComplete((ok, error) -> {
            if (error != null) {
                LOG.warn("could not send the cancellation of {}: {}", requestId, error.toString());
            }
        });
    }

    private ProducerRecord<byte[], byte[]> record(GenerationRequest r) {
        return new ProducerRecord<>(topic, r.getRequestId().toString().getBytes(StandardCharsets.UTF_8), codec.encode(r));
    }

    @Override
    public void close() {
        producer.close(java.time.Duration.ofSeconds(5));
    }
}

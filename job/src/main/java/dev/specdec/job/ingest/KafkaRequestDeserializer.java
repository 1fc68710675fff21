package dev.specdec.job.ingest;

import dev.specdec.job.records.RecordCodec;
import dev.specdec.job.records.RecordFormatException;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.job.records.RequestJson;
import dev.specdec.records.DeadLetter;
import dev.specdec.records.GenerationRequest;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Reads prompts-topic records: Avro single-object encoded {@code GenerationRequest}s (any published
 * schema version) or the same request as a JSON object (handy from {@code kafka-console-producer}).
 * Anything else becomes a dead letter with its topic, partition and offset: an empty or null value, a
 * record over {@link RequestLimits#recordBytes()}, an undecodable one, and one whose decoding would
 * exhaust the heap (Avro's collection limits are set by {@link RecordCodec}). This never throws.
 * Requests without an id (JSON only) are named after their position, {@code topic-partition-offset},
 * which is stable across replays.
 */
public final class KafkaRequestDeserializer implements KafkaRecordDeserializationSchema<Either<DeadLetter, GenerationRequest>> {
    private static final long serialVersionUID = 1L;

    private final SamplingParams defaults;
    private final RequestLimits limits;
    private transient RecordCodec<GenerationRequest> codec;

    public KafkaRequestDeserializer(SamplingParams defaults, RequestLimits limits) {
        this.defaults = defaults;
        this.limits = limits;
    }

    public KafkaRequestDeserializer(SamplingParams defaults) {
        this(defaults, RequestLimits.DEFAULTS);
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        codec = RecordCodec.requests();
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Either<DeadLetter, GenerationRequest>> out) {
        out.collect(read(record.topic(), record.partition(), record.offset(), record.value()));
    }

    Either<DeadLetter, GenerationRequest> read(String topic, int partition, long offset, byte[] value) {
        if (codec == null) {
            codec = RecordCodec.requests();
        }
        if (value == null || value.length == 0) {
            return dead(topic, partition, offset, value, "empty record (a null value or no bytes)", null);
        }
        if (value.length > limits.recordBytes()) {
            return dead(topic, partition, offset, value, "record of " + value.length + " bytes is over the limit of "
                    + limits.recordBytes() + " (--request-limit record-bytes=N raises it)", null);
        }
        try {
            if (RecordCodec.looksLikeSingleObject(value)) {
                return Ingested.request(codec.decode(value));
            }
            if (startsLikeJson(value)) {
                String fallbackId = topic + "-" + partition + "-" + offset;
                return Ingested.request(RequestJson.parseLine(new String(value, StandardCharsets.UTF_8), fallbackId, defaults));
            }
            return dead(topic, partition, offset, value,
                    "not a GenerationRequest: expected Avro single-object encoding or a JSON object", null);
        } catch (RecordFormatException e) {
            return dead(topic, partition, offset, value, e.getMessage(), e.requestId());
        } catch (IOException | RuntimeException e) {
            return dead(topic, partition, offset, value, "undecodable Avro record: " + e.getMessage(), null);
        } catch (OutOfMemoryError | StackOverflowError e) {
            // One record asked for more than the heap (a declared collection size) or nested too deep; the
            // failed allocation freed everything it took, so the job goes on without it.
            return dead(topic, partition, offset, value, "undecodable record: decoding it needed " + e, null);
        }
    }

    private Either<DeadLetter, GenerationRequest> dead(String topic, int partition, long offset, byte[] value,
                                                       String reason, String requestId) {
        return Ingested.deadLetter(DeadLetters.fromKafka(topic, partition, offset, DeadLetters.head(value,
                limits.recordBytes()), reason, requestId));
    }

    private static boolean startsLikeJson(byte[] value) {
        for (byte b : value) {
            if (b == '{') {
                return true;
            }
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return false;
            }
        }
        return false;
    }

    @Override
    public TypeInformation<Either<DeadLetter, GenerationRequest>> getProducedType() {
        return Ingested.type();
    }
}

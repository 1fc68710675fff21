package dev.specdec.job.pipeline;

import dev.specdec.job.records.OutputFormat;
import dev.specdec.job.records.OutputHeaders;
import dev.specdec.job.records.RecordCodec;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.flink.util.function.SerializableSupplier;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Writes records to one topic in an {@link OutputFormat}, keyed by a string (the request id), with
 * the {@link OutputHeaders} (request id, content type, schema fingerprint). A record the producer would refuse for its size (which fails an exactly-once sink, and the job with
 * it) is replaced by what {@code oversized} makes of it, and never sent as it is.
 */
final class KafkaOutputSerializer<T extends SpecificRecordBase> implements KafkaRecordSerializationSchema<T> {
    private static final long serialVersionUID = 1L;

    /**
     * The largest value sent: the producer's default {@code max.request.size} (1 MiB) less room for
     * the key, headers and batch overhead.
     */
    static final int MAX_VALUE_BYTES = 1024 * 1024 - 16 * 1024;

    /** Makes a small stand-in for a record whose encoding has the given number of bytes. */
    interface Oversized<T> extends java.io.Serializable {
        T replace(T record, int bytes, int limit);
    }

    private final String topic;
    private final SerializableFunction<T, String> key;
    private final SerializableSupplier<RecordCodec<T>> codecFactory;
    private final Oversized<T> oversized;
    private final OutputFormat format;
    private transient RecordCodec<T> codec;
    private transient String fingerprint;

    KafkaOutputSerializer(String topic, SerializableFunction<T, String> key, SerializableSupplier<RecordCodec<T>> codec,
                          Oversized<T> oversized, OutputFormat format) {
        this.topic = topic;
        this.key = key;
        this.codecFactory = codec;
        this.oversized = oversized;
        this.format = Objects.requireNonNull(format, "output format");
    }

    @Override
    public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
        codec();
    }

    /** Made on first use: the codec is not serializable, and the fingerprint is computed once, not per record. */
    private RecordCodec<T> codec() {
        if (codec == null) {
            codec = codecFactory.get();
            fingerprint = OutputHeaders.fingerprint(codec.schema());
        }
        return codec;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
        String k = key.apply(element);
        byte[] value = format.encode(codec(), element);
        if (value.length > MAX_VALUE_BYTES) {
            value = format.encode(codec(), oversized.replace(element, value.length, MAX_VALUE_BYTES));
            if (value.length > MAX_VALUE_BYTES) {
                throw new IllegalStateException("the stand-in for an oversized record is still " + value.length + " bytes");
            }
        }
        return new ProducerRecord<>(topic, null, timestamp, k == null ? null : k.getBytes(StandardCharsets.UTF_8), value,
                OutputHeaders.of(k, format, fingerprint));
    }
}

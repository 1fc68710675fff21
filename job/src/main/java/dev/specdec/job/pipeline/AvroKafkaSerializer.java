package dev.specdec.job.pipeline;

import dev.specdec.job.records.RecordCodec;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.flink.util.function.SerializableSupplier;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;

/** Writes records to one topic as Avro single-object encoding, keyed by a string (the request id). */
final class AvroKafkaSerializer<T extends SpecificRecordBase> implements KafkaRecordSerializationSchema<T> {
    private static final long serialVersionUID = 1L;

    private final String topic;
    private final SerializableFunction<T, String> key;
    private final SerializableSupplier<RecordCodec<T>> codecFactory;
    private transient RecordCodec<T> codec;

    AvroKafkaSerializer(String topic, SerializableFunction<T, String> key, SerializableSupplier<RecordCodec<T>> codec) {
        this.topic = topic;
        this.key = key;
        this.codecFactory = codec;
    }

    @Override
    public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
        codec = codecFactory.get();
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
        if (codec == null) {
            codec = codecFactory.get();
        }
        String k = key.apply(element);
        return new ProducerRecord<>(topic, null, timestamp, k == null ? null : k.getBytes(StandardCharsets.UTF_8),
                codec.encode(element));
    }
}

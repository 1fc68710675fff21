package dev.specdec.job.records;

import dev.specdec.records.GenerationResult;
import dev.specdec.records.TokenChunk;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Headers;

import java.io.IOException;

/**
 * Reads results and chunks from Kafka in either output format ({@link OutputFormat}). The
 * {@code content-type} header decides; a record without one (written before the job set headers, or
 * copied by a tool that drops them) is told by its first byte: 0xC3 starts Avro single-object
 * encoding, '{' a JSON object. Safe to use from several threads.
 */
public final class OutputRecords<T extends SpecificRecordBase> {
    private static final OutputRecords<GenerationResult> RESULTS = new OutputRecords<>(RecordCodec.results());
    private static final OutputRecords<TokenChunk> CHUNKS = new OutputRecords<>(RecordCodec.chunks());

    private final RecordCodec<T> avro;
    private final RecordJsonReader<T> json;

    private OutputRecords(RecordCodec<T> avro) {
        this.avro = avro;
        this.json = new RecordJsonReader<>(avro.schema());
    }

    public static GenerationResult readResult(ConsumerRecord<byte[], byte[]> record) throws IOException {
        return RESULTS.read(record.value(), record.headers());
    }

    public static TokenChunk readChunk(ConsumerRecord<byte[], byte[]> record) throws IOException {
        return CHUNKS.read(record.value(), record.headers());
    }

    public static GenerationResult readResult(byte[] value, Headers headers) throws IOException {
        return RESULTS.read(value, headers);
    }

    public static TokenChunk readChunk(byte[] value, Headers headers) throws IOException {
        return CHUNKS.read(value, headers);
    }

    /** Decodes one record value; IOException (with the reason) if it is neither format or does not fit the schema. */
    private T read(byte[] value, Headers headers) throws IOException {
        if (value == null || value.length == 0) {
            throw new IOException("empty record (a tombstone?)");
        }
        return switch (format(value, OutputHeaders.text(headers, OutputHeaders.CONTENT_TYPE))) {
            case AVRO -> avro.decode(value);
            case JSON -> json.read(value);
        };
    }

    /** The format a record is in, by its content type, else by its first byte. */
    public static OutputFormat format(byte[] value, String contentType) throws IOException {
        if (contentType != null) {
            String type = contentType.split(";", 2)[0].trim();
            for (OutputFormat f : OutputFormat.values()) {
                if (f.contentType().equalsIgnoreCase(type)) {
                    return f;
                }
            }
            throw new IOException("unknown content-type '" + contentType + "'");
        }
        if (value[0] == RecordCodec.MARKER) {
            return OutputFormat.AVRO;
        }
        if (value[0] == '{') {
            return OutputFormat.JSON;
        }
        throw new IOException(String.format("no content-type header and an unknown first byte 0x%02x", value[0] & 0xff));
    }
}

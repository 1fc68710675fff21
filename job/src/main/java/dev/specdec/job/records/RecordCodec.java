package dev.specdec.job.records;

import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecordBase;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The wire form of the job's records on Kafka: Avro single-object encoding (a two-byte marker, the
 * writer schema's fingerprint, then the binary record). The fingerprint lets a reader pick the
 * writer schema among every version it knows, so a record written by an older client is resolved
 * against the current schema instead of being misread. Old versions live in
 * {@code schemas/history/} and are packaged as resources.
 */
public final class RecordCodec<T extends SpecificRecordBase> {
    /** Every schema version ever published, oldest first (resources under {@code specdec/schemas/history/}). */
    static final List<String> REQUEST_HISTORY = List.of("GenerationRequest-v1.avsc", "GenerationRequest-v2.avsc");

    /** First byte of every single-object encoded record. */
    public static final byte MARKER = (byte) 0xC3;

    private final Schema schema;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;

    private RecordCodec(Schema schema, List<Schema> olderVersions) {
        this.schema = schema;
        SpecificData model = new SpecificData();
        this.encoder = new BinaryMessageEncoder<>(model, schema);
        this.decoder = new BinaryMessageDecoder<>(model, schema);
        for (Schema old : olderVersions) {
            decoder.addSchema(old);
        }
    }

    public static RecordCodec<dev.specdec.records.GenerationRequest> requests() {
        return new RecordCodec<>(dev.specdec.records.GenerationRequest.getClassSchema(), requestHistory());
    }

    public static RecordCodec<dev.specdec.records.GenerationResult> results() {
        return new RecordCodec<>(dev.specdec.records.GenerationResult.getClassSchema(), List.of());
    }

    public static RecordCodec<dev.specdec.records.TokenChunk> chunks() {
        return new RecordCodec<>(dev.specdec.records.TokenChunk.getClassSchema(), List.of());
    }

    public static RecordCodec<dev.specdec.records.DeadLetter> deadLetters() {
        return new RecordCodec<>(dev.specdec.records.DeadLetter.getClassSchema(), List.of());
    }

    /** The older published versions of the request schema. */
    public static List<Schema> requestHistory() {
        List<Schema> out = new ArrayList<>();
        for (String name : REQUEST_HISTORY) {
            out.add(historySchema(name));
        }
        return out;
    }

    /** Parses one schema file of {@code schemas/history/} from the class path. */
    public static Schema historySchema(String fileName) {
        String path = "/specdec/schemas/history/" + fileName;
        try (InputStream in = RecordCodec.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("schema resource " + path + " is missing from the build");
            }
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Schema schema() {
        return schema;
    }

    public byte[] encode(T record) {
        try {
            ByteBuffer buf = encoder.encode(record);
            byte[] out = new byte[buf.remaining()];
            buf.get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Decodes a single-object encoded record; throws IOException (with the reason) if it is not one. */
    public T decode(byte[] bytes) throws IOException {
        try {
            return decoder.decode(bytes);
        } catch (RuntimeException e) {
            // Avro reports unknown fingerprints and truncated data as runtime exceptions.
            throw new IOException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
        }
    }

    /** Whether the bytes start like a single-object encoded record. */
    public static boolean looksLikeSingleObject(byte[] bytes) {
        return bytes != null && bytes.length >= 10 && bytes[0] == MARKER && bytes[1] == (byte) 0x01;
    }
}

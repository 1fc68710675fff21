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
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RecordCodec.class);

    /**
     * Avro's own bounds on what one record may declare (it allocates a declared collection before
     * reading it: 22 bytes can ask for two billion elements). Set before Avro reads its limits, the
     * first time this class is used in a JVM, unless the JVM was started with them.
     */
    static final long MAX_COLLECTION_ITEMS = 1 << 20;
    static final long MAX_STRING_BYTES = 64L << 20;

    static {
        limit(org.apache.avro.SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY, MAX_COLLECTION_ITEMS);
        limit(org.apache.avro.SystemLimitException.MAX_STRING_LENGTH_PROPERTY, MAX_STRING_BYTES);
        limit(org.apache.avro.SystemLimitException.MAX_BYTES_LENGTH_PROPERTY, MAX_STRING_BYTES);
        try {
            org.apache.avro.SystemLimitException.checkMaxCollectionLength(MAX_COLLECTION_ITEMS + 1);
            LOG.info("Avro's collection limit was fixed before this job set it; oversized records are still caught"
                    + " as they fail to allocate (start the JVM with -D{}={} to bound them earlier)",
                    org.apache.avro.SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY, MAX_COLLECTION_ITEMS);
        } catch (org.apache.avro.SystemLimitException expected) {
            // the limit is in force
        }
    }

    private static void limit(String property, long value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, Long.toString(value));
        }
    }

    /** Every schema version ever published, oldest first (resources under {@code specdec/schemas/history/}). */
    static final List<String> REQUEST_HISTORY = List.of("GenerationRequest-v1.avsc", "GenerationRequest-v2.avsc",
            "GenerationRequest-v3.avsc", "GenerationRequest-v4.avsc");

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

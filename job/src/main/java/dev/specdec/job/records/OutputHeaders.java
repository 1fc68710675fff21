package dev.specdec.job.records;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The headers on every record the job writes to Kafka (results, chunks, dead letters), so a
 * consumer can route and decode a record without parsing it: the request id, the content type,
 * and the fingerprint of the schema the value follows (for JSON too: the schema whose field names
 * and types the JSON object has).
 */
public final class OutputHeaders {
    public static final String REQUEST_ID = "request_id";
    public static final String CONTENT_TYPE = "content-type";
    public static final String SCHEMA_FINGERPRINT = "schema-fingerprint";

    /** Avro single-object encoding: 0xC3 0x01, the 8-byte schema fingerprint, the binary record. */
    public static final String AVRO_SINGLE_OBJECT = "application/vnd.apache.avro.single-object";
    public static final String JSON = "application/json";

    private OutputHeaders() {
    }

    /** The headers of one record: {@code request_id} only when known; {@code fingerprint} as {@link #fingerprint}. */
    public static List<Header> of(String requestId, OutputFormat format, String fingerprint) {
        List<Header> out = new ArrayList<>(3);
        if (requestId != null) {
            out.add(header(REQUEST_ID, requestId));
        }
        out.add(header(CONTENT_TYPE, format.contentType()));
        out.add(header(SCHEMA_FINGERPRINT, fingerprint));
        return out;
    }

    /**
     * The schema's CRC-64-AVRO fingerprint (of its parsing canonical form, as in the single-object
     * header) as 16 lower-case hex digits, most significant first.
     */
    public static String fingerprint(Schema schema) {
        return String.format(Locale.ROOT, "%016x", SchemaNormalization.parsingFingerprint64(schema));
    }

    /** The last value of header {@code key} as UTF-8 text, or null. */
    public static String text(Headers headers, String key) {
        Header h = headers == null ? null : headers.lastHeader(key);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static Header header(String key, String value) {
        return new RecordHeader(key, value.getBytes(StandardCharsets.UTF_8));
    }
}

package dev.specdec.job.ingest;

import dev.specdec.records.DeadLetter;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;

/** Builds dead-letter records for the places a bad record can come from. */
public final class DeadLetters {
    /** Raw payloads are cut to this size: a dead letter must stay a small record. */
    static final int MAX_PAYLOAD = 64 * 1024;
    /** Reasons and ids echo at most this many characters: a reason may quote the field it rejects. */
    public static final int MAX_REASON = 1024;
    static final int MAX_ID = 256;

    private DeadLetters() {
    }

    public static DeadLetter fromKafka(String topic, int partition, long offset, byte[] payload, String reason,
                                       String requestId) {
        return base("kafka", payload, reason, requestId).setTopic(topic).setPartition(partition).setOffset(offset).build();
    }

    public static DeadLetter fromFile(String file, long line, byte[] payload, String reason, String requestId) {
        return base("file", payload, reason, requestId).setFile(file).setLine(line).build();
    }

    public static DeadLetter fromFile(String file, long line, String payload, String reason, String requestId) {
        return fromFile(file, line, payload.getBytes(StandardCharsets.UTF_8), reason, requestId);
    }

    /** A request the job read but will not serve (e.g. a second request with an id still in progress). */
    public static DeadLetter fromJob(String requestId, String reason) {
        return base("job", null, reason, requestId).build();
    }

    /** The first {@code max} bytes of a payload (all of it when shorter; empty for null). */
    static byte[] head(byte[] payload, int max) {
        return payload == null ? new byte[0] : payload.length > max ? Arrays.copyOf(payload, max) : payload;
    }

    /** {@code s} cut to at most {@code max} characters (never inside a surrogate pair), marked when cut. */
    public static String cut(String s, int max) {
        if (s == null || s.length() <= max) {
            return s;
        }
        String mark = "... (" + s.length() + " characters)";
        int end = Math.max(0, max - mark.length());
        if (end > 0 && Character.isHighSurrogate(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end) + mark;
    }

    private static DeadLetter.Builder base(String source, byte[] payload, String reason, String requestId) {
        return DeadLetter.newBuilder()
                .setSource(source)
                .setTopic(null).setPartition(null).setOffset(null).setFile(null).setLine(null)
                .setRequestId(cut(requestId, MAX_ID))
                .setReason(reason == null ? "unknown error" : cut(reason, MAX_REASON))
                .setPayload(ByteBuffer.wrap(head(payload, MAX_PAYLOAD)))
                .setTimeMs(Instant.ofEpochMilli(System.currentTimeMillis()));
    }

    /** Dead letters are bounded when made (payload head, cut reason); one still too large loses its payload. */
    public static DeadLetter tooLarge(DeadLetter d, int bytes, int limit) {
        return DeadLetter.newBuilder(d).setPayload(ByteBuffer.allocate(0))
                .setReason(cut(d.getReason(), MAX_REASON - 64) + " (payload dropped: " + bytes + " bytes)").build();
    }
}

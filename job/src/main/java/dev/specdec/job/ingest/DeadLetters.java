package dev.specdec.job.ingest;

import dev.specdec.records.DeadLetter;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Builds dead-letter records for the places a bad record can come from. */
public final class DeadLetters {
    /** Raw payloads are cut to this size: a dead letter must stay a small record. */
    static final int MAX_PAYLOAD = 64 * 1024;

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

    private static DeadLetter.Builder base(String source, byte[] payload, String reason, String requestId) {
        byte[] p = payload == null ? new byte[0]
                : payload.length > MAX_PAYLOAD ? Arrays.copyOf(payload, MAX_PAYLOAD) : payload;
        return DeadLetter.newBuilder()
                .setSource(source)
                .setTopic(null).setPartition(null).setOffset(null).setFile(null).setLine(null)
                .setRequestId(requestId)
                .setReason(reason == null ? "unknown error" : reason)
                .setPayload(ByteBuffer.wrap(p))
                .setTimeMs(System.currentTimeMillis());
    }
}

package dev.specdec.job.records;

/**
 * A record that cannot be read as a request (not JSON, wrong field types, unknown enum value). It
 * carries the request id when the record had a readable one, so the client can still be answered.
 */
public final class RecordFormatException extends IllegalArgumentException {
    private final String requestId;

    public RecordFormatException(String message, String requestId) {
        super(message);
        this.requestId = requestId;
    }

    /** The id of the request the record claimed to be, or null if it had none. */
    public String requestId() {
        return requestId;
    }
}

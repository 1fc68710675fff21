package dev.specdec.job.records;

import org.apache.avro.specific.SpecificRecordBase;

import java.nio.charset.StandardCharsets;

/**
 * How results and chunks are written to Kafka: Avro single-object encoding (compact, resolved by
 * the schema fingerprint it carries) or one UTF-8 JSON object per record, the same JSON as the
 * batch command's JSONL lines ({@link RecordJson}), for consumers without Avro. Either way the
 * record's headers say which ({@link OutputHeaders}); {@link OutputRecords} reads both.
 */
public enum OutputFormat {
    AVRO(OutputHeaders.AVRO_SINGLE_OBJECT),
    JSON(OutputHeaders.JSON);

    private final String contentType;

    OutputFormat(String contentType) {
        this.contentType = contentType;
    }

    /** The value of the {@code content-type} header of records in this format. */
    public String contentType() {
        return contentType;
    }

    public <T extends SpecificRecordBase> byte[] encode(RecordCodec<T> codec, T record) {
        return this == AVRO ? codec.encode(record) : RecordJson.toJsonLine(record).getBytes(StandardCharsets.UTF_8);
    }
}

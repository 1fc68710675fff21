package dev.specdec.job.records;

import dev.specdec.job.decode.Results;
import dev.specdec.records.FinishReason;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.TokenChunk;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Results and chunks read back from either output format, with or without a content-type header. */
class OutputRecordsTest {
    static final RecordHeaders NONE = new RecordHeaders();

    static RecordHeaders contentType(String type) {
        return new RecordHeaders(List.of(new RecordHeader(OutputHeaders.CONTENT_TYPE, type.getBytes(StandardCharsets.UTF_8))));
    }

    static GenerationResult result() {
        return GenerationResult.newBuilder(Results.error("r-1", 4, "bad \u00e9", Map.of("k", "v"), "ctc", 0))
                .setCompletedTimeMs(Instant.ofEpochMilli(1_700_000_000_123L)).build();
    }

    @Test
    void bothFormatsReadTheSameResultByHeaderAndByFirstByte() throws IOException {
        GenerationResult r = result();
        byte[] avro = OutputFormat.AVRO.encode(RecordCodec.results(), r);
        byte[] json = OutputFormat.JSON.encode(RecordCodec.results(), r);
        assertEquals(r, OutputRecords.readResult(avro, contentType(OutputHeaders.AVRO_SINGLE_OBJECT)));
        assertEquals(r, OutputRecords.readResult(json, contentType("application/json; charset=utf-8")));
        assertEquals(r, OutputRecords.readResult(avro, NONE));
        assertEquals(r, OutputRecords.readResult(json, null));
    }

    @Test
    void jsonKeepsTimestampsAsEpochMillis() throws IOException {
        TokenChunk c = TokenChunk.newBuilder().setRequestId("c").setTokenOffset(2).setTokenIds(List.of(5, 6))
                .setTextOffset(1).setText("ab").setLast(true).setEmittedTimeMs(Instant.ofEpochMilli(42)).build();
        byte[] json = OutputFormat.JSON.encode(RecordCodec.chunks(), c);
        assertTrue(new String(json, StandardCharsets.UTF_8).contains("\"emitted_time_ms\":42"));
        assertEquals(c, OutputRecords.readChunk(json, contentType(OutputHeaders.JSON)));
    }

    @Test
    void jsonOfAnotherSchemaVersionReadsAsSchemaResolutionWould() throws IOException {
        String json = "{\"request_id\":\"x\",\"finish_reason\":\"content_filter\",\"usage\":{},\"speculative\":{},"
                + "\"timings\":{},\"added_later\":[1,2]}";
        GenerationResult r = OutputRecords.readResult(json.getBytes(StandardCharsets.UTF_8), NONE);
        assertEquals("x", r.getRequestId());
        assertEquals(FinishReason.ERROR, r.getFinishReason(), "an unknown reason reads as the enum default");
        assertEquals("", r.getText());
        assertEquals(Instant.EPOCH, r.getCompletedTimeMs());
    }

    @Test
    void whatIsNeitherFormatIsRefusedWithAReason() {
        byte[] json = OutputFormat.JSON.encode(RecordCodec.results(), result());
        IOException unknown = assertThrows(IOException.class, () -> OutputRecords.readResult(json, contentType("text/plain")));
        assertTrue(unknown.getMessage().contains("text/plain"), unknown.getMessage());
        IOException garbage = assertThrows(IOException.class, () -> OutputRecords.readResult(new byte[] {7, 1}, NONE));
        assertTrue(garbage.getMessage().contains("0x07"), garbage.getMessage());
        IOException missing = assertThrows(IOException.class,
                () -> OutputRecords.readResult("{\"text\":\"no id\"}".getBytes(StandardCharsets.UTF_8), NONE));
        assertTrue(missing.getMessage().contains("request_id"), missing.getMessage());
        assertThrows(IOException.class, () -> OutputRecords.readChunk(new byte[0], NONE));
    }
}

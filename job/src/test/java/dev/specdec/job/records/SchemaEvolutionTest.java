package dev.specdec.job.records;

import dev.specdec.records.Drafter;
import dev.specdec.records.GenerationRequest;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.RequestAction;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificDatumReader;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Records written with version 1 of the request schema ({@code schemas/history/}) are read with the
 * current one: on Kafka (single-object encoding, resolved by fingerprint) and in Avro files (the
 * file names its writer schema). New fields take their defaults. And the rule itself: the current
 * schema can read every published version.
 */
class SchemaEvolutionTest {
    static final Schema V1 = RecordCodec.historySchema("GenerationRequest-v1.avsc");

    static GenericRecord v1Record(String id) {
        GenericRecord r = new GenericData.Record(V1);
        r.put("request_id", id);
        r.put("prompt", "And God said");
        r.put("messages", new ArrayList<>());
        r.put("max_new_tokens", 17);
        r.put("temperature", 0.5);
        r.put("top_p", 0.9);
        r.put("top_k", 5);
        r.put("seed", 7L);
        r.put("stop", List.of("\n"));
        r.put("stop_token_ids", List.of(2));
        r.put("drafter", new GenericData.EnumSymbol(V1.getField("drafter").schema(), "MEDUSA"));
        r.put("submit_time_ms", 1234L);
        return r;
    }

    static void assertReadAsCurrent(GenerationRequest r) {
        assertEquals("old", r.getRequestId());
        assertEquals("And God said", r.getPrompt());
        assertEquals(17, r.getMaxNewTokens());
        assertEquals(0.5, r.getTemperature());
        assertEquals(Drafter.MEDUSA, r.getDrafter());
        assertEquals(List.of("\n"), r.getStop());
        assertEquals(java.time.Instant.ofEpochMilli(1234L), r.getSubmitTimeMs());
        // Fields added after version 1 take their defaults.
        assertTrue(r.getMetadata().isEmpty());
        assertEquals(false, r.getIgnoreEos());
        assertNull(r.getTimeoutMs());
        assertEquals(RequestAction.GENERATE, r.getAction());
    }

    @Test
    void currentSchemaReadsEveryPublishedVersion() {
        for (Schema old : RecordCodec.requestHistory()) {
            SchemaCompatibility.SchemaPairCompatibility c = SchemaCompatibility.checkReaderWriterCompatibility(
                    GenerationRequest.getClassSchema(), old);
            assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE, c.getType(), c.getDescription());
        }
    }

    @Test
    void singleObjectRecordsOfVersion1AreResolvedByFingerprint() throws IOException {
        ByteBuffer buf = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), V1).encode(v1Record("old"));
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);
        assertTrue(RecordCodec.looksLikeSingleObject(bytes));
        assertReadAsCurrent(RecordCodec.requests().decode(bytes));
    }

    @Test
    void avroFilesWrittenWithVersion1AreReadWithTheCurrentSchema() throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        try (DataFileWriter<GenericRecord> w = new DataFileWriter<>(new GenericDatumWriter<>(V1))) {
            w.create(V1, file);
            w.append(v1Record("old"));
        }
        try (DataFileStream<GenerationRequest> in = new DataFileStream<>(new ByteArrayInputStream(file.toByteArray()),
                new SpecificDatumReader<>(GenerationRequest.class))) {
            assertReadAsCurrent(in.next());
        }
    }

    @Test
    void recordsRoundTripAndGarbageIsRejectedWithAReason() throws IOException {
        RecordCodec<GenerationRequest> codec = RecordCodec.requests();
        GenerationRequest r = RequestJson.newRequest("x", RequestJson.STANDARD_DEFAULTS).setPrompt("hi").build();
        assertEquals(r, codec.decode(codec.encode(r)));
        byte[] unknownFingerprint = codec.encode(r);
        unknownFingerprint[5] ^= 0x55;
        IOException e = assertThrows(IOException.class, () -> codec.decode(unknownFingerprint));
        assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
        RecordCodec<GenerationResult> results = RecordCodec.results();
        assertThrows(IOException.class, () -> results.decode(codec.encode(r)));
    }
}

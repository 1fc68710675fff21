package dev.specdec.job.pipeline;

import dev.specdec.job.decode.Results;
import dev.specdec.job.ingest.DeadLetters;
import dev.specdec.job.records.RequestJson;
import dev.specdec.records.DeadLetter;
import dev.specdec.records.GenerationRequest;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.TokenChunk;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The records travel between Flink tasks (and sit in state) through Flink's Avro serializer; their
 * timestamps, java.time.Instant in the generated classes, must come through as they went in.
 */
class TimestampRecordsTypeInfoTest {
    static <T extends SpecificRecordBase> T throughFlink(Class<T> type, T record) throws IOException {
        TypeSerializer<T> s = new AvroTypeInfo<>(type).createSerializer(new SerializerConfigImpl());
        DataOutputSerializer out = new DataOutputSerializer(256);
        s.serialize(record, out);
        assertEquals(record, s.copy(record));
        return s.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
    }

    @Test
    void everyRecordWithATimestampRoundTrips() throws IOException {
        Instant t = Instant.ofEpochMilli(1_700_000_000_123L);
        GenerationRequest request = RequestJson.newRequest("q", RequestJson.STANDARD_DEFAULTS).setPrompt("p")
                .setSubmitTimeMs(t).build();
        GenerationResult result = GenerationResult.newBuilder(Results.error("r", 1, "e", Map.of(), "ctc", 0))
                .setCompletedTimeMs(t).build();
        TokenChunk chunk = TokenChunk.newBuilder().setRequestId("c").setTokenIds(List.of(1)).setEmittedTimeMs(t).build();
        DeadLetter dead = DeadLetter.newBuilder(DeadLetters.fromJob("d", "why")).setTimeMs(t).build();
        assertEquals(request, throughFlink(GenerationRequest.class, request));
        assertEquals(result, throughFlink(GenerationResult.class, result));
        assertEquals(chunk, throughFlink(TokenChunk.class, chunk));
        assertEquals(dead, throughFlink(DeadLetter.class, dead));
    }
}

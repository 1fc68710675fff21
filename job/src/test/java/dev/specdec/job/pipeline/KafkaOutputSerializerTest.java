package dev.specdec.job.pipeline;

import dev.specdec.job.decode.Results;
import dev.specdec.job.ingest.DeadLetters;
import dev.specdec.job.records.OutputFormat;
import dev.specdec.job.records.OutputHeaders;
import dev.specdec.job.records.OutputRecords;
import dev.specdec.job.records.RecordCodec;
import dev.specdec.job.records.RecordJson;
import dev.specdec.records.DeadLetter;
import dev.specdec.records.FinishReason;
import dev.specdec.records.GenerationResult;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No record the job writes is over the producer's size limit: an oversized one is replaced by a small
 * stand-in. Every record carries its headers, and the JSON format writes the batch JSONL line.
 */
class KafkaOutputSerializerTest {
    @Test
    void anOversizedResultBecomesAnErrorResultUnderTheLimitAndASmallOneIsSentAsItIs() throws Exception {
        KafkaOutputSerializer<GenerationResult> s = new KafkaOutputSerializer<>("results", GenerationResult::getRequestId,
                RecordCodec::results, Results::tooLarge, OutputFormat.AVRO);
        GenerationResult small = Results.error("id-1", 3, "fine", Map.of("k", "v"), "ctc", 0);
        ProducerRecord<byte[], byte[]> ok = s.serialize(small, null, 1L);
        assertEquals(small, RecordCodec.results().decode(ok.value()));
        assertEquals("id-1", new String(ok.key(), StandardCharsets.UTF_8));

        GenerationResult big = GenerationResult.newBuilder(small).setFinishReason(FinishReason.LENGTH).setError(null)
                .setText("x".repeat(2 << 20)).build();
        ProducerRecord<byte[], byte[]> out = s.serialize(big, null, 1L);
        assertTrue(out.value().length <= KafkaOutputSerializer.MAX_VALUE_BYTES, "sent " + out.value().length + " bytes");
        GenerationResult sent = RecordCodec.results().decode(out.value());
        assertEquals("id-1", sent.getRequestId());
        assertEquals(FinishReason.ERROR, sent.getFinishReason());
        assertTrue(sent.getError().contains("over the output limit"), sent.getError());
        assertSame(null, sent.getMetadata().get("k"), "nothing large is carried over");
    }

    @Test
    void anOversizedDeadLetterLosesItsPayload() throws Exception {
        KafkaOutputSerializer<DeadLetter> s = new KafkaOutputSerializer<>("dead", DeadLetter::getRequestId,
                RecordCodec::deadLetters, DeadLetters::tooLarge, OutputFormat.AVRO);
        DeadLetter d = DeadLetter.newBuilder(DeadLetters.fromJob("id-2", "why")).setPayload(ByteBuffer.wrap(new byte[2 << 20])).build();
        DeadLetter sent = RecordCodec.deadLetters().decode(s.serialize(d, null, 1L).value());
        assertEquals(0, sent.getPayload().remaining());
        assertTrue(sent.getReason().startsWith("why") && sent.getReason().contains("payload dropped"), sent.getReason());
    }

    @Test
    void jsonRecordsAreTheJsonLinesAndBothFormatsCarryTheirHeaders() throws Exception {
        GenerationResult r = Results.error("id-3", 2, "bad", Map.of(), "ngram", 0);
        ProducerRecord<byte[], byte[]> json = new KafkaOutputSerializer<GenerationResult>("results",
                GenerationResult::getRequestId, RecordCodec::results, Results::tooLarge, OutputFormat.JSON)
                .serialize(r, null, 1L);
        assertEquals(RecordJson.toJsonLine(r), new String(json.value(), StandardCharsets.UTF_8));
        assertEquals("application/json", OutputHeaders.text(json.headers(), "content-type"));
        assertEquals(r, OutputRecords.readResult(json.value(), json.headers()));

        ProducerRecord<byte[], byte[]> avro = new KafkaOutputSerializer<GenerationResult>("results",
                GenerationResult::getRequestId, RecordCodec::results, Results::tooLarge, OutputFormat.AVRO)
                .serialize(r, null, 1L);
        assertEquals("application/vnd.apache.avro.single-object", OutputHeaders.text(avro.headers(), "content-type"));
        for (ProducerRecord<byte[], byte[]> sent : List.of(json, avro)) {
            assertEquals("id-3", OutputHeaders.text(sent.headers(), "request_id"));
            // The single-object header holds the same fingerprint, little-endian, in bytes 2..9.
            long fp = ByteBuffer.wrap(avro.value(), 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(String.format("%016x", fp), OutputHeaders.text(sent.headers(), "schema-fingerprint"));
        }
    }

    @Test
    void aDeadLetterWithoutARequestIdHasNoRequestIdHeader() {
        KafkaOutputSerializer<DeadLetter> s = new KafkaOutputSerializer<>("dead", DeadLetter::getRequestId,
                RecordCodec::deadLetters, DeadLetters::tooLarge, OutputFormat.AVRO);
        ProducerRecord<byte[], byte[]> sent = s.serialize(DeadLetters.fromJob(null, "why"), null, 1L);
        assertNull(sent.headers().lastHeader("request_id"));
        assertEquals(OutputHeaders.fingerprint(DeadLetter.getClassSchema()), OutputHeaders.text(sent.headers(), "schema-fingerprint"));
    }
}

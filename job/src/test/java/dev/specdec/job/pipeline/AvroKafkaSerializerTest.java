package dev.specdec.job.pipeline;

import dev.specdec.job.decode.Results;
import dev.specdec.job.ingest.DeadLetters;
import dev.specdec.job.records.RecordCodec;
import dev.specdec.records.DeadLetter;
import dev.specdec.records.FinishReason;
import dev.specdec.records.GenerationResult;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** No record the job writes is over the producer's size limit: an oversized one is replaced by a small stand-in. */
class AvroKafkaSerializerTest {
    @Test
    void anOversizedResultBecomesAnErrorResultUnderTheLimitAndASmallOneIsSentAsItIs() throws Exception {
        AvroKafkaSerializer<GenerationResult> s = new AvroKafkaSerializer<>("results", GenerationResult::getRequestId,
                RecordCodec::results, Results::tooLarge);
        GenerationResult small = Results.error("id-1", 3, "fine", Map.of("k", "v"), "ctc", 0);
        ProducerRecord<byte[], byte[]> ok = s.serialize(small, null, 1L);
        assertEquals(small, RecordCodec.results().decode(ok.value()));
        assertEquals("id-1", new String(ok.key(), StandardCharsets.UTF_8));

        GenerationResult big = GenerationResult.newBuilder(small).setFinishReason(FinishReason.LENGTH).setError(null)
                .setText("x".repeat(2 << 20)).build();
        ProducerRecord<byte[], byte[]> out = s.serialize(big, null, 1L);
        assertTrue(out.value().length <= AvroKafkaSerializer.MAX_VALUE_BYTES, "sent " + out.value().length + " bytes");
        GenerationResult sent = RecordCodec.results().decode(out.value());
        assertEquals("id-1", sent.getRequestId());
        assertEquals(FinishReason.ERROR, sent.getFinishReason());
        assertTrue(sent.getError().contains("over the output limit"), sent.getError());
        assertSame(null, sent.getMetadata().get("k"), "nothing large is carried over");
    }

    @Test
    void anOversizedDeadLetterLosesItsPayload() throws Exception {
        AvroKafkaSerializer<DeadLetter> s = new AvroKafkaSerializer<>("dead", DeadLetter::getRequestId,
                RecordCodec::deadLetters, DeadLetters::tooLarge);
        DeadLetter d = DeadLetter.newBuilder(DeadLetters.fromJob("id-2", "why")).setPayload(ByteBuffer.wrap(new byte[2 << 20])).build();
        DeadLetter sent = RecordCodec.deadLetters().decode(s.serialize(d, null, 1L).value());
        assertEquals(0, sent.getPayload().remaining());
        assertTrue(sent.getReason().startsWith("why") && sent.getReason().contains("payload dropped"), sent.getReason());
    }
}

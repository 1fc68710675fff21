package dev.specdec.job.ingest;

import dev.specdec.job.records.RequestJson;
import dev.specdec.job.records.RecordCodec;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.records.DeadLetter;
import dev.specdec.records.GenerationRequest;
import org.apache.flink.types.Either;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kafka deserializer never throws: random bytes, truncated and bit-flipped records all become
 * dead letters with their position (a throwing deserializer makes Flink restart forever).
 */
public class KafkaRequestDeserializerTest {
    final KafkaRequestDeserializer d = new KafkaRequestDeserializer(RequestJson.STANDARD_DEFAULTS);

    @Test
    void readsAvroAndJson() {
        byte[] avro = RecordCodec.requests().encode(RequestJson.newRequest("a", RequestJson.STANDARD_DEFAULTS).setPrompt("p").build());
        assertEquals("a", d.read("t", 0, 1, avro).right().getRequestId());
        Either<DeadLetter, GenerationRequest> json = d.read("t", 2, 7, " {\"prompt\":\"p\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals("t-2-7", json.right().getRequestId());
    }

    @Test
    void neverThrowsOnGarbage() {
        byte[] valid = RecordCodec.requests().encode(RequestJson.newRequest("a", RequestJson.STANDARD_DEFAULTS).setPrompt("p").build());
        SplittableRandom rnd = new SplittableRandom(3);
        int dead = 0;
        for (int i = 0; i < 2000; i++) {
            byte[] b;
            switch (i % 4) {
                case 0 -> {
                    b = new byte[rnd.nextInt(0, 64)];
                    for (int j = 0; j < b.length; j++) {
                        b[j] = (byte) rnd.nextInt(256);
                    }
                }
                case 1 -> b = Arrays.copyOf(valid, rnd.nextInt(0, valid.length));
                case 2 -> {
                    b = valid.clone();
                    b[rnd.nextInt(10, b.length)] ^= (byte) (1 + rnd.nextInt(255));
                }
                default -> b = ("{\"id\":\"x\"," + "\"prompt\":".repeat(rnd.nextInt(3))).getBytes(StandardCharsets.UTF_8);
            }
            Either<DeadLetter, GenerationRequest> out = d.read("t", 1, i, b);
            if (out.isLeft()) {
                dead++;
                assertEquals("t", out.left().getTopic());
                assertEquals(1, out.left().getPartition());
                assertEquals(i, out.left().getOffset());
                assertTrue(!out.left().getReason().isEmpty());
            }
        }
        assertTrue(dead > 1000, "most garbage must be dead letters, got " + dead);
        assertTrue(d.read("t", 0, 0, null).isLeft());
    }

    /** The 22-byte record of the hardening issue: it declares 2,147,483,639 chat messages. */
    public static byte[] hugeMessageArray() throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(RecordCodec.MARKER);
        out.write(0x01);
        long fp = org.apache.avro.SchemaNormalization.parsingFingerprint64(GenerationRequest.getClassSchema());
        for (int i = 0; i < 8; i++) {
            out.write((int) (fp >>> (8 * i)) & 0xFF);
        }
        org.apache.avro.io.BinaryEncoder e = org.apache.avro.io.EncoderFactory.get().binaryEncoder(out, null);
        e.writeString("a");
        e.writeIndex(0);                 // prompt: null
        e.writeArrayStart();
        e.setItemCount(2_147_483_639L);  // messages: "this many follow"
        e.flush();
        return out.toByteArray();
    }

    @Test
    void recordsThatDeclareHugeCollectionsOrExceedTheSizeLimitAreDeadLettersNotCrashes() throws Exception {
        byte[] bomb = hugeMessageArray();
        assertTrue(bomb.length < 32, "a small record: " + bomb.length);
        Either<DeadLetter, GenerationRequest> out = d.read("t", 0, 5, bomb);
        assertTrue(out.isLeft(), "dead letter");
        assertTrue(out.left().getReason().length() <= DeadLetters.MAX_REASON, out.left().getReason());

        KafkaRequestDeserializer small = new KafkaRequestDeserializer(RequestJson.STANDARD_DEFAULTS,
                RequestLimits.DEFAULTS.with("record-bytes", 100));
        byte[] big = ("{\"id\":\"x\",\"prompt\":\"" + "a".repeat(200) + "\"}").getBytes(StandardCharsets.UTF_8);
        Either<DeadLetter, GenerationRequest> tooBig = small.read("t", 0, 6, big);
        assertTrue(tooBig.isLeft());
        assertTrue(tooBig.left().getReason().contains("record-bytes"), tooBig.left().getReason());
        assertEquals(100, tooBig.left().getPayload().remaining(), "the payload kept is cut to the limit");
    }

    @Test
    void aDeadLetterNeverEchoesMoreThanASmallReason() {
        String huge = "9".repeat(1 << 20);
        byte[] json = ("{\"id\":\"x\",\"prompt\":\"p\",\"max_new_tokens\":\"" + huge + "\"}").getBytes(StandardCharsets.UTF_8);
        Either<DeadLetter, GenerationRequest> out = d.read("t", 0, 7, json);
        assertTrue(out.isLeft(), "a string where a number belongs");
        assertTrue(out.left().getReason().length() <= DeadLetters.MAX_REASON, "reason of " + out.left().getReason().length());
        assertTrue(RecordCodec.deadLetters().encode(out.left()).length < 80 * 1024, "the dead letter stays small");
    }
}

package dev.specdec.job.records;

import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.records.Drafter;
import dev.specdec.records.GenerationRequest;
import dev.specdec.records.RequestAction;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JSON request shapes users bring, and the shape errors that make a record unreadable. */
class RequestJsonTest {
    static final SamplingParams D = new SamplingParams(32, 0, 0, 1, 0, java.util.Set.of(), List.of("END"), false);

    @Test
    void datasetShapes() {
        GenerationRequest plain = RequestJson.parseLine("{\"id\":\"a\",\"prompt\":\"hi\",\"category\":\"c\"}", "x", D);
        assertEquals("a", plain.getRequestId());
        assertEquals("hi", plain.getPrompt());
        assertEquals("c", plain.getMetadata().get("category"));
        assertEquals(32, plain.getMaxNewTokens());
        assertEquals(List.of("END"), plain.getStop());

        GenerationRequest mt = RequestJson.parseLine(
                "{\"question_id\":81,\"category\":\"writing\",\"turns\":[\"first\",\"second\"]}", "x", D);
        assertEquals("81", mt.getRequestId());
        assertEquals("first", mt.getPrompt());

        GenerationRequest gsm = RequestJson.parseLine("{\"question\":\"2+2?\",\"answer\":\"4\"}", "f:3", D);
        assertEquals("f:3", gsm.getRequestId());
        assertEquals("2+2?", gsm.getPrompt());
    }

    @Test
    void fullRequests() {
        GenerationRequest r = RequestJson.parseLine("{\"request_id\":\"r\",\"messages\":[{\"role\":\"user\",\"content\":\"hey\"}],"
                + "\"max_new_tokens\":5,\"temperature\":0.7,\"top_p\":0.9,\"top_k\":3,\"seed\":11,\"stop\":\"\\n\","
                + "\"stop_token_ids\":[2,3],\"drafter\":\"ctc-faithful\",\"metadata\":{\"k\":\"v\",\"n\":1},"
                + "\"ignore_eos\":true,\"timeout_ms\":500,\"submit_time_ms\":1700000000123,\"plain_chat_fallback\":true}", null, D);
        assertNull(r.getPrompt());
        assertTrue(r.getPlainChatFallback());
        assertFalse(RequestJson.parseLine("{\"request_id\":\"r\",\"prompt\":\"p\"}", null, D).getPlainChatFallback(),
                "off unless asked for");
        assertEquals("hey", r.getMessages().get(0).getContent());
        assertEquals(5, r.getMaxNewTokens());
        assertEquals(List.of("\n"), r.getStop());
        assertEquals(List.of(2, 3), r.getStopTokenIds());
        assertEquals(Drafter.CTC_FAITHFUL, r.getDrafter());
        assertEquals("1", r.getMetadata().get("n"));
        assertEquals(500L, r.getTimeoutMs());
        assertEquals(java.time.Instant.ofEpochMilli(1_700_000_000_123L), r.getSubmitTimeMs(), "epoch milliseconds");
        assertEquals(java.time.Instant.EPOCH, RequestJson.parseLine("{\"request_id\":\"r\"}", null, D).getSubmitTimeMs());
        assertEquals(RequestAction.GENERATE, r.getAction());
        assertEquals(RequestAction.CANCEL, RequestJson.parseLine("{\"request_id\":\"r\",\"action\":\"cancel\"}", null, D).getAction());
        assertEquals(DecodingMethod.CTC_FAITHFUL, RequestJson.method(Drafter.CTC_FAITHFUL, DecodingMethod.CTC));
        assertEquals(DecodingMethod.MEDUSA, RequestJson.method(Drafter.DEFAULT, DecodingMethod.MEDUSA));
    }

    @Test
    void shapeErrorsKeepTheIdWhenThereIsOne() {
        RecordFormatException notJson = assertThrows(RecordFormatException.class, () -> RequestJson.parseLine("nope", "x", D));
        assertNull(notJson.requestId());
        assertTrue(notJson.getMessage().contains("not valid JSON"));
        assertThrows(RecordFormatException.class, () -> RequestJson.parseLine("[1]", "x", D));
        assertThrows(RecordFormatException.class, () -> RequestJson.parseLine("{\"prompt\":\"p\"}", null, D));
        for (String bad : List.of("\"max_new_tokens\":\"5\"", "\"temperature\":\"hot\"", "\"seed\":1.5",
                "\"drafter\":\"eagle\"", "\"stop_token_ids\":[\"a\"]", "\"messages\":[{\"role\":\"user\"}]",
                "\"action\":\"pause\"", "\"metadata\":[1]", "\"ignore_eos\":\"yes\"",
                "\"plain_chat_fallback\":1")) {
            RecordFormatException e = assertThrows(RecordFormatException.class,
                    () -> RequestJson.parseLine("{\"id\":\"b\",\"prompt\":\"p\"," + bad + "}", "x", D), bad);
            assertEquals("b", e.requestId(), bad);
        }
    }
}

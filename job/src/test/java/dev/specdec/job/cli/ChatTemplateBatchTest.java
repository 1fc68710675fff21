package dev.specdec.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.engine.tokenizer.TextTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chat requests through {@code specdec batch} (the whole job: file source, validation, decoding,
 * results) on a model without a chat template: rejected with the clear reason unless they allow
 * the plain fallback, and rendered by {@code --chat-template deploy/chat-templates/plain.jinja},
 * whose text the job tokenizes without adding the tokenizer's BOS.
 */
class ChatTemplateBatchTest {
    private static final String TEXT = "User: And God said\n\nAssistant:";

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void messagesNeedATemplateOrThePlainFallback(@TempDir Path tmp) throws Exception {
        Path model = TinyModel.create(tmp.resolve("model"));
        Path input = tmp.resolve("chat.jsonl");
        String messages = "\"messages\": [{\"role\": \"user\", \"content\": \"And God said\"}]";
        Files.write(input, List.of("{\"request_id\": \"strict\", " + messages + "}",
                "{\"request_id\": \"fallback\", \"plain_chat_fallback\": true, " + messages + "}"));

        Map<String, JsonNode> plain = batch(model, input, tmp.resolve("no-template"));
        assertEquals("the model has no chat template; pass --chat-template FILE or set plain_chat_fallback",
                plain.get("strict").get("error").asText());
        assertEquals("length", plain.get("fallback").get("finish_reason").asText(), plain.get("fallback").toString());

        Map<String, JsonNode> templated = batch(model, input, tmp.resolve("template"), "--chat-template",
                Path.of("../deploy/chat-templates/plain.jinja").toString());
        try (TextTokenizer tokenizer = TextTokenizer.load(model)) {
            for (String id : List.of("strict", "fallback")) {
                assertEquals("length", templated.get(id).get("finish_reason").asText(), templated.get(id).toString());
                assertEquals(tokenizer.encodeRaw(TEXT).length, promptTokens(templated.get(id)), "the template's text, no BOS added");
            }
            assertEquals(tokenizer.encode(TEXT).length, promptTokens(plain.get("fallback")), "the fallback as before");
        }
    }

    private static int promptTokens(JsonNode result) {
        return result.get("usage").get("prompt_tokens").asInt();
    }

    private static Map<String, JsonNode> batch(Path model, Path input, Path out, String... more) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("batch", "--model", model.toString(), "--input",
                input.toString(), "--output", out.toString(), "--max-new-tokens", "4", "--batch-size", "2",
                "--web-port", "18082"));
        args.addAll(List.of(more));
        assertEquals(0, BatchCommandTest.run(args.toArray(String[]::new)));
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode r : OutputFiles.committedLines(out, "results")) {
            byId.put(r.get("request_id").asText(), r);
        }
        assertTrue(byId.keySet().containsAll(List.of("strict", "fallback")), byId.toString());
        return byId;
    }
}

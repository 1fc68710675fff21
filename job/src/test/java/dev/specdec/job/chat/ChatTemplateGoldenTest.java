package dev.specdec.job.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.specdec.engine.request.InvalidRequestException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Published chat templates (Meta-Llama-3-8B-Instruct, Meta-Llama-3.1-8B-Instruct, Llama-3.2-1B-Instruct,
 * Qwen2-7B-Instruct, Qwen2.5-7B-Instruct, Mistral-7B-Instruct-v0.2 and v0.3, Llama-2-7b-chat-hf,
 * Phi-3-mini-4k-instruct, gemma-2-2b-it, TinyLlama-1.1B-Chat-v1.0, SmolLM2-1.7B-Instruct),
 * a template of the Python behaviours that Jinjava does otherwise, and the project's plain.jinja,
 * rendered by {@link ChatTemplate} exactly as Python's Jinja2 rendered them the transformers way
 * (the fixtures under {@code chat-templates/} are made by {@code scripts/chat-goldens.py}): byte for
 * byte, and a template's {@code raise_exception} as the invalid request's reason.
 */
public class ChatTemplateGoldenTest {
    public static final Path FIXTURES = Path.of("src/test/resources/chat-templates");
    static final Path PLAIN = Path.of("../deploy/chat-templates/plain.jinja");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The day the goldens' strftime_now wrote (scripts/chat-goldens.py, FIXED_NOW). */
    @BeforeAll
    static void fixTheDate() {
        TemplateFunctions.useClock(Clock.fixed(Instant.parse("2024-09-25T14:30:00Z"), ZoneOffset.UTC));
    }

    @AfterAll
    static void freeTheDate() {
        TemplateFunctions.useClock(Clock.systemDefaultZone());
    }

    @TestFactory
    List<DynamicTest> everyCaseRendersAsJinja2Did() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String model : List.of("llama3", "llama3.1", "llama3.2", "qwen2", "qwen2.5", "mistral", "mistral3", "llama2",
                "phi3", "gemma2", "tinyllama", "smollm2", "features", "plain")) {
            Path dir = FIXTURES.resolve(model);
            ChatTemplate template = model.equals("plain")
                    ? ChatTemplates.load(dir, Files.readString(PLAIN, StandardCharsets.UTF_8))
                    : ChatTemplates.load(dir, null);
            JsonNode cases = JSON.readTree(dir.resolve("goldens.json").toFile()).get("cases");
            assertTrue(cases.size() >= 4, model);
            for (JsonNode c : cases) {
                tests.add(DynamicTest.dynamicTest(model + " " + c.get("name").asText(), () -> check(template, c)));
            }
        }
        return tests;
    }

    private static void check(ChatTemplate template, JsonNode c) {
        List<ChatTemplate.Message> messages = new ArrayList<>();
        for (JsonNode m : c.get("messages")) {
            messages.add(new ChatTemplate.Message(m.get("role").asText(), m.get("content").asText()));
        }
        if (c.has("expected")) {
            assertEquals(c.get("expected").asText(), template.render(messages));
        } else {
            String reason = assertThrows(InvalidRequestException.class, () -> template.render(messages)).getMessage();
            assertEquals("the chat template refused the messages: " + c.get("error").asText(), reason);
        }
    }

    @TestFactory
    List<DynamicTest> theFixturesHoldWhatTheTestNeeds() {
        return List.of(DynamicTest.dynamicTest("mistral has both error cases", () -> {
            String text = Files.readString(FIXTURES.resolve("mistral/goldens.json"));
            assertTrue(text.contains("\"error\": \"After the optional system message"), "roles out of order");
            assertTrue(text.contains("\"error\": \"Only user and assistant roles"), "an unknown role");
        }), DynamicTest.dynamicTest("gemma2 refuses a system message and roles out of order", () -> {
            String text = Files.readString(FIXTURES.resolve("gemma2/goldens.json"));
            assertTrue(text.contains("\"error\": \"System role not supported\""), "a system message");
            assertTrue(text.contains("\"error\": \"Conversation roles must alternate"), "roles out of order");
        }), DynamicTest.dynamicTest("llama3.2 wrote strftime_now's fixed day, llama3.1 its own default", () -> {
            assertTrue(Files.readString(FIXTURES.resolve("llama3.2/goldens.json")).contains("Today Date: 25 Sep 2024"));
            assertTrue(Files.readString(FIXTURES.resolve("llama3.1/goldens.json")).contains("Today Date: 26 Jul 2024"));
        }), DynamicTest.dynamicTest("a template that fails to parse is an invalid request", () -> {
            ChatTemplate broken = new ChatTemplate("{% if %}", Map.of());
            String reason = assertThrows(InvalidRequestException.class,
                    () -> broken.render(List.of(new ChatTemplate.Message("user", "hi")))).getMessage();
            assertTrue(reason.startsWith("the model's chat template could not be rendered"), reason);
        }), DynamicTest.dynamicTest("a template whose output has no bound is an invalid request", () -> {
            ChatTemplate huge = new ChatTemplate("{% for i in range(100000) %}{{ messages[0].content * 100 }}{% endfor %}",
                    Map.of());
            String content = "x".repeat(100);
            assertThrows(InvalidRequestException.class, () -> huge.render(List.of(new ChatTemplate.Message("user", content))));
        }));
    }
}

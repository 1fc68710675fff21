package dev.specdec.job.chat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where a model's chat template is found (chat_template.jinja before tokenizer_config.json, a
 * named list's "default", the job's --chat-template over both) and which special tokens it sees.
 */
class ChatTemplatesTest {
    private static final List<ChatTemplate.Message> HI = List.of(new ChatTemplate.Message("user", "hi"));

    private static String render(Path dir, String override) {
        return ChatTemplates.load(dir, override).render(HI);
    }

    @Test
    void theJinjaFileComesBeforeTheTokenizerConfig(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"config {{ bos_token }}\","
                + " \"bos_token\": {\"content\": \"<B>\", \"lstrip\": false, \"__type\": \"AddedToken\"},"
                + " \"eos_token\": \"<E>\", \"pad_token\": null, \"add_bos_token\": true}");
        assertEquals("config <B>", render(dir, null));
        Files.writeString(dir.resolve("chat_template.jinja"), "file {{ eos_token }} {{ messages[0].content }}\n");
        assertEquals("file <E> hi", render(dir, null));
        assertEquals("override hi<B>", render(dir, "override {{ messages[0]['content'] }}{{ bos_token }}"));
    }

    @Test
    void aListOfNamedTemplatesGivesTheDefaultOne(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": [{\"name\": \"tool_use\","
                + " \"template\": \"tools\"}, {\"name\": \"default\", \"template\": \"chat {{ add_generation_prompt }}\"}]}");
        assertEquals("chat True", render(dir, null), "a boolean prints as Python prints it");
    }

    @Test
    void aModelWithoutOneHasNone(@TempDir Path dir) throws Exception {
        assertNull(ChatTemplates.load(dir, null), "no tokenizer_config.json");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\"}");
        assertNull(ChatTemplates.load(dir, null));
        assertEquals("<s>", render(dir, "{{ bos_token }}"), "the override still sees the model's tokens");
    }

    @Test
    void strftimeNowIsDefinedAndWritesTodayAsPythonWould(@TempDir Path dir) {
        // As Llama 3.1's template writes "Today Date: ..." (a day boundary between the two lines is possible).
        String out = render(dir, "{% if strftime_now is defined %}{{ strftime_now('%d %b %Y') }}{% endif %}");
        java.time.format.DateTimeFormatter python = java.time.format.DateTimeFormatter.ofPattern("dd MMM yyyy",
                java.util.Locale.ENGLISH);
        String today = java.time.LocalDate.now().format(python);
        assertTrue(out.equals(today) || out.equals(java.time.LocalDate.now().minusDays(1).format(python)), out);
    }
}

package dev.specdec.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.specdec.engine.model.ModelConfig;
import dev.specdec.engine.testing.NodePackages;
import dev.specdec.engine.tokenizer.TextTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bundled model folder, exactly as shipped, loads in transformers.js (offline, from the folder)
 * and its tokenizer agrees with ours: the same ids for every test string, the same text back, the
 * same special tokens and context length. Without this a JavaScript client could build prompts that
 * the engine reads as different tokens.
 */
class TransformersJsTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCRIPT_DIR = Path.of("src/test/node/transformers-js");

    /** Plain text, whitespace runs, newlines, punctuation, accents, CJK, emoji, special-token text, nothing. */
    private static final List<String> TEXTS = List.of(
            "In the beginning God created the heaven and the earth.",
            "And God said , Let there be light : and there was light .",
            " leading space",
            "  two  spaces   and\ttab, trailing   ",
            "line one\nline two\n\n\nafter blank lines\r\nwindows",
            "Hello, world! (yes?) -- \"quoted\"; 'single'... [1:2] {a=b} 50% $3 #tag @who ~`^|\\",
            "café naïve Ærø — “curly” ‘quotes’ …",
            "日本語のテキスト 中文 한국어",
            "emoji 😀 👍🏽 👨‍👩‍👧 🇩🇪",
            "before <s> middle </s> after <pad> end",
            "<s>",
            "");

    private static JsonNode js;

    @BeforeAll
    static void runTransformersJs(@TempDir Path tmp) throws Exception {
        Path dir = NodePackages.ensureInstalled(SCRIPT_DIR.toAbsolutePath());
        Path inputs = tmp.resolve("inputs.json");
        Files.writeString(inputs, JSON.writeValueAsString(TEXTS), StandardCharsets.UTF_8);
        Process p = NodePackages.node(dir, "tokenize.mjs", Defaults.bundledModel().toAbsolutePath().toString(), inputs.toString());
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "transformers.js did not finish");
        assertEquals(0, p.exitValue(), "transformers.js failed:\n" + out);
        js = JSON.readTree(out);
        assertEquals(TEXTS.size(), js.get("results").size());
    }

    @Test
    void encodesEveryTextToTheEnginesIds() throws Exception {
        try (TextTokenizer tok = TextTokenizer.load(Defaults.bundledModel())) {
            for (JsonNode r : js.get("results")) {
                String text = r.get("text").asText();
                assertArrayEquals(tok.encode(text), ints(r.get("ids")), "ids of " + quoted(text));
            }
        }
    }

    @Test
    void agreesWithWhatTokenizeJsonPrints() throws Exception {
        for (JsonNode r : js.get("results")) {
            String text = r.get("text").asText();
            JsonNode printed = JSON.readTree(TokenizeCommandTest.run("tokenize", "--text", text, "--json"));
            assertArrayEquals(ints(printed.get("ids")), ints(r.get("ids")), "tokenize --json ids of " + quoted(text));
        }
    }

    @Test
    void decodesTheIdsToTheSameText() throws Exception {
        try (TextTokenizer tok = TextTokenizer.load(Defaults.bundledModel())) {
            for (JsonNode r : js.get("results")) {
                String text = r.get("text").asText();
                int[] ids = ints(r.get("ids"));
                assertEquals(tok.decode(ids, true), r.get("decoded").asText(), "decoded " + quoted(text));
                assertEquals(tok.decode(ids, false), r.get("decodedWithSpecial").asText(), "decoded with specials " + quoted(text));
                if (!text.contains("<")) {
                    assertEquals(text, r.get("decoded").asText(), "round trip of " + quoted(text));
                }
            }
        }
    }

    @Test
    void specialTokensAndContextLengthAreTheModels() throws Exception {
        ModelConfig config = ModelConfig.load(Defaults.bundledModel());
        JsonNode s = js.get("special");
        try (TextTokenizer tok = TextTokenizer.load(Defaults.bundledModel())) {
            assertSpecial(s.get("bos"), "<s>", config.bosTokenId, tok);
            assertSpecial(s.get("eos"), "</s>", config.eosTokenIds.get(0), tok);
            assertSpecial(s.get("pad"), "<pad>", tok.specialTokenId("<pad>"), tok);
        }
        assertEquals(config.maxPositions, s.get("modelMaxLength").asInt());
    }

    private static void assertSpecial(JsonNode jsToken, String expected, int expectedId, TextTokenizer tok) {
        assertEquals(expected, jsToken.get(0).asText());
        assertEquals(expectedId, jsToken.get(1).asInt(), expected + "'s id");
        assertEquals(tok.specialTokenId(expected), jsToken.get(1).asInt(), expected + "'s id in our tokenizer");
    }

    private static int[] ints(JsonNode array) {
        int[] r = new int[array.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = array.get(i).asInt();
        }
        return r;
    }

    private static String quoted(String text) {
        return JSON.valueToTree(text).toString();
    }
}

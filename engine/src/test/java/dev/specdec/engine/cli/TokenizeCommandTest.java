package dev.specdec.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.specdec.engine.model.ModelConfig;
import dev.specdec.engine.tokenizer.TextTokenizer;
import dev.specdec.engine.tokenizer.TokenizerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code tokenize} shows a prompt's ids as the engine encodes them and decodes ids back; the bundled
 * model ships the {@code tokenizer_config.json} that HuggingFace loaders need, and it is what
 * {@link TokenizerConfig} writes from the folder's own tokenizer and config (so it cannot drift).
 */
class TokenizeCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static synchronized String run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            assertEquals(0, EngineMain.execute(EngineMain.withEngineCommands(new CommandLine(new EngineMain())), args));
            return buf.toString(StandardCharsets.UTF_8);
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void idsAreTheEnginesAndDecodeBack() throws Exception {
        String text = "And God said, Let there be light: and there was light.";
        JsonNode out = JSON.readTree(run("tokenize", "--text", text, "--json"));
        try (TextTokenizer tok = TextTokenizer.load(Defaults.bundledModel())) {
            int[] ids = tok.encode(text);
            int[] printed = new int[out.get("ids").size()];
            for (int i = 0; i < printed.length; i++) {
                printed[i] = out.get("ids").get(i).asInt();
            }
            assertArrayEquals(ids, printed);
            assertEquals(tok.specialTokenId("<s>"), printed[0], "the prompt starts with BOS, as the engine feeds it");
            assertEquals(tok.tokens(text).length, out.get("tokens").size());
            StringBuilder csv = new StringBuilder();
            for (int i = 1; i < ids.length; i++) {
                csv.append(i == 1 ? "" : ",").append(ids[i]);
            }
            assertEquals(text, run("tokenize", "--ids", csv.toString()).strip());
            assertEquals(String.join(" ", java.util.Arrays.stream(ids).mapToObj(Integer::toString).toList()),
                    run("tokenize", "--text", text).strip());
        }
    }

    @Test
    void theBundledTokenizerConfigIsTheOneItsTokenizerAndConfigGive(@TempDir Path tmp) throws Exception {
        Path bundled = Defaults.bundledModel();
        ModelConfig config = ModelConfig.load(bundled);
        try (TextTokenizer tok = TextTokenizer.load(bundled)) {
            Files.copy(bundled.resolve("tokenizer.json"), tmp.resolve("tokenizer.json"));
            Path written = TokenizerConfig.write(tmp, tok, config.bosTokenId, config.eosTokenIds.get(0), tok.specialTokenId("<pad>"),
                    config.maxPositions);
            assertEquals(Files.readString(written), Files.readString(bundled.resolve("tokenizer_config.json")));
        }
        JsonNode c = JSON.readTree(bundled.resolve("tokenizer_config.json").toFile());
        assertEquals("<s>", c.get("bos_token").asText());
        assertEquals("</s>", c.get("eos_token").asText());
        assertEquals(false, c.get("clean_up_tokenization_spaces").asBoolean());
    }
}

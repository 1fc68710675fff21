package dev.specdec.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.engine.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Encodings and decodings of both tokenizer kinds against HuggingFace tokenizers' own output. */
class GoldenTokenizerTest {

    @ParameterizedTest
    @ValueSource(strings = {"byte_level_bpe", "sentencepiece_bpe"})
    void idsTokensAndTextMatchReference(String kind) throws Exception {
        Path dir = Fixtures.dir().resolve("tokenizers");
        JsonNode cases = Fixtures.json(dir.resolve("golden.json")).get(kind);
        try (TextTokenizer tok = TextTokenizer.load(dir.resolve(kind + ".json"))) {
            for (JsonNode c : cases) {
                String text = c.get("text").asText();
                int[] ids = Fixtures.ints(c.get("ids"));
                assertArrayEquals(ids, tok.encode(text), "ids of " + text);
                String[] tokens = new String[c.get("tokens").size()];
                for (int i = 0; i < tokens.length; i++) {
                    tokens[i] = c.get("tokens").get(i).asText();
                }
                assertArrayEquals(tokens, tok.tokens(text), "tokens of " + text);
                assertEquals(c.get("decoded").asText(), tok.decode(ids, true), "decoded " + text);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2-tiny", "llama3-tiny-gqa-bf16"})
    void modelTokenizersEncodeGoldenPrompts(String model) throws Exception {
        Path dir = Fixtures.model(model);
        JsonNode g = Fixtures.json(dir.resolve("golden.json"));
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            assertArrayEquals(Fixtures.ints(g.get("input_ids")), tok.encode(g.get("prompt").asText()));
        }
    }
}

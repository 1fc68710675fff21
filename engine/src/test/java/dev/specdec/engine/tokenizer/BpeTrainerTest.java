package dev.specdec.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The byte-level BPE trainer's tokenizer.json, loaded by DJL's HuggingFace tokenizer. */
class BpeTrainerTest {
    private static final List<String> TEXTS = List.of(
            "In the beginning God created the heaven and the earth.",
            "And God said, Let there be light: and there was light.",
            "The quick brown fox jumps over the lazy dog. The dog sleeps.");

    @Test
    void roundTripsArbitraryUnicode(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokenizer.json");
        BpeTrainer.write(BpeTrainer.train(TEXTS, 400), file);
        SplittableRandom rnd = new SplittableRandom(7);
        try (TextTokenizer tok = TextTokenizer.load(file)) {
            String[] fixed = {"", " ", "Ünïcödé — ✓ 日本語 emoji 🚀🏳️‍🌈 and\ttabs\nnewlines  ", "e\u0301 combining",
                    "\u0000\u0001 control", "Ω≈ç√∫˜µ≤≥÷ 𝕳𝖊𝖑𝖑𝖔", "  leading and trailing  "};
            for (String s : fixed) {
                assertEquals(s, tok.decode(tok.encode(s)), "round trip of " + s);
            }
            for (int i = 0; i < 200; i++) {
                StringBuilder sb = new StringBuilder();
                int len = rnd.nextInt(30);
                for (int j = 0; j < len; j++) {
                    int cp;
                    do {
                        cp = rnd.nextInt(3) == 0 ? rnd.nextInt(0x80) : rnd.nextInt(0x1FFFF);
                    } while (Character.isSurrogate((char) cp) || !Character.isDefined(cp));
                    sb.appendCodePoint(cp);
                }
                String s = sb.toString();
                assertEquals(s, tok.decode(tok.encode(s)), "round trip of random text #" + i);
            }
            int[] ids = tok.encode("light");
            assertEquals(1, ids[0], "the post-processor prepends <s>");
            assertEquals(0, tok.specialTokenId(BpeTrainer.PAD));
            assertEquals(2, tok.specialTokenId(BpeTrainer.EOS));
            assertArrayEquals(tok.encodeRaw("light"), java.util.Arrays.copyOfRange(ids, 1, ids.length));
        }
    }

    @Test
    void learnsMergesAndIsDeterministic() throws Exception {
        JsonNode a = BpeTrainer.train(TEXTS, 320);
        JsonNode b = BpeTrainer.train(TEXTS, 320);
        assertEquals(new ObjectMapper().writeValueAsString(a), new ObjectMapper().writeValueAsString(b));
        // A tiny corpus runs out of pairs seen twice before the vocabulary is full: training stops there.
        int vocab = a.get("model").get("vocab").size();
        assertTrue(vocab > 259 + 20 && vocab <= 320, "vocabulary of " + vocab);
        assertEquals(vocab - 259, a.get("model").get("merges").size(), "one merge per learned token");
    }
}

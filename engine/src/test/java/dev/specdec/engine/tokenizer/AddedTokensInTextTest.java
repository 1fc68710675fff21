package dev.specdec.engine.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A rendered chat template holds special tokens as text ({@code <|begin_of_text|>}, {@code <s>}).
 * Tokenized as transformers tokenizes it (add_special_tokens=False: {@link TextTokenizer#encodeRaw}),
 * each such text becomes its one special id, the text between them is encoded on its own, and no
 * second BOS is added in front.
 */
class AddedTokensInTextTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The LLaMA-3-style fixture tokenizer plus LLaMA-3's chat tokens, after its vocabulary. */
    private static Path llama3WithChatTokens(Path dir) throws Exception {
        ObjectNode root = (ObjectNode) JSON.readTree(Fixtures.dir().resolve("tokenizers/byte_level_bpe.json").toFile());
        int next = root.path("model").path("vocab").size();
        ArrayNode added = (ArrayNode) root.get("added_tokens");
        for (String t : new String[] {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}) {
            ObjectNode a = added.addObject();
            a.put("id", next++).put("content", t).put("single_word", false).put("lstrip", false).put("rstrip", false)
                    .put("normalized", false).put("special", true);
        }
        Path file = dir.resolve("tokenizer.json");
        JSON.writeValue(file.toFile(), root);
        return file;
    }

    @Test
    void specialTokenTextsBecomeTheirIds(@TempDir Path tmp) throws Exception {
        try (TextTokenizer tok = TextTokenizer.load(llama3WithChatTokens(tmp))) {
            int bos = tok.specialTokenId("<|begin_of_text|>");
            int start = tok.specialTokenId("<|start_header_id|>");
            int end = tok.specialTokenId("<|end_header_id|>");
            int eot = tok.specialTokenId("<|eot_id|>");
            String text = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
                    + "<|start_header_id|>assistant<|end_header_id|>\n\n";
            int[] expected = concat(new int[] {bos, start}, tok.encodeRaw("user"), new int[] {end},
                    tok.encodeRaw("\n\nHi there"), new int[] {eot, start}, tok.encodeRaw("assistant"), new int[] {end},
                    tok.encodeRaw("\n\n"));
            assertArrayEquals(expected, tok.encodeRaw(text));
            assertEquals(1, count(tok.encodeRaw(text), bos), "one BOS: the template's");
        }
    }

    @Test
    void aTokenizerThatPrependsBosAddsNoSecondOneToTemplatedText(@TempDir Path tmp) throws Exception {
        // A LLaMA-2-style tokenizer: its post-processor prepends <s>, as the project's own tokenizers do.
        Path file = tmp.resolve("tokenizer.json");
        BpeTrainer.write(BpeTrainer.train(List.of("In the beginning [INST] God created [/INST] the heaven"), 300), file);
        try (TextTokenizer tok = TextTokenizer.load(file)) {
            int bos = tok.specialTokenId(BpeTrainer.BOS);
            int[] plain = tok.encode("<s> [INST] Hi [/INST]");
            int[] raw = tok.encodeRaw("<s> [INST] Hi [/INST]");
            assertEquals(2, count(plain, bos), "encode adds the post-processor's BOS: " + Arrays.toString(plain));
            assertEquals(1, count(raw, bos), Arrays.toString(raw));
            assertArrayEquals(concat(new int[] {bos}, tok.encodeRaw(" [INST] Hi [/INST]")), raw);
        }
    }

    private static long count(int[] ids, int id) {
        return Arrays.stream(ids).filter(x -> x == id).count();
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(IntStream::of).toArray();
    }
}

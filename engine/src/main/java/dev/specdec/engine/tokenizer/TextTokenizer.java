package dev.specdec.engine.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.specdec.engine.model.ModelFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A checkpoint's {@code tokenizer.json}, loaded through DJL's HuggingFace tokenizer (offline, no
 * truncation). Encoding adds special tokens exactly as the file's post-processor says (a LLaMA-2
 * tokenizer prepends {@code <s>}). The native tokenizer is not thread-safe, so calls are serialised.
 */
public final class TextTokenizer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, Integer> specialTokens;
    private final Path path;
    /** One more than the largest token id the file defines (its vocabulary and added tokens). */
    private final int idLimit;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, Map<String, Integer> specialTokens, Path path, int idLimit) {
        this.tokenizer = tokenizer;
        this.specialTokens = specialTokens;
        this.path = path;
        this.idLimit = idLimit;
    }

    /** Loads {@code tokenizer.json} from a checkpoint folder or a direct file path. */
    public static TextTokenizer load(Path pathOrDir) throws IOException {
        Path file = Files.isDirectory(pathOrDir) ? pathOrDir.resolve("tokenizer.json") : pathOrDir;
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException("no tokenizer.json at " + file);
        }
        HuggingFaceTokenizer t = HuggingFaceTokenizer.builder()
                .optTokenizerPath(file)
                .optAddSpecialTokens(true)
                .optTruncation(false)
                .optPadding(false)
                .build();
        Map<String, Integer> special = new HashMap<>();
        JsonNode json = JSON.readTree(file.toFile());
        int maxId = -1;
        JsonNode added = json.get("added_tokens");
        if (added != null) {
            for (JsonNode a : added) {
                maxId = Math.max(maxId, a.path("id").asInt(-1));
                if (a.path("special").asBoolean(false)) {
                    special.put(a.get("content").asText(), a.get("id").asInt());
                }
            }
        }
        JsonNode vocab = json.path("model").path("vocab");
        if (vocab.isObject()) {
            for (JsonNode id : vocab) {
                maxId = Math.max(maxId, id.asInt(-1));
            }
        } else if (vocab.isArray()) {
            maxId = Math.max(maxId, vocab.size() - 1);     // Unigram: a list of [piece, score]
        }
        return new TextTokenizer(t, Map.copyOf(special), file, maxId + 1);
    }

    /** Token ids of {@code text}, with the special tokens the tokenizer's post-processor adds. */
    public synchronized int[] encode(String text) {
        return toInts(tokenizer.encode(text, true, false));
    }

    /** Token ids of {@code text} without any added special tokens. */
    public synchronized int[] encodeRaw(String text) {
        return toInts(tokenizer.encode(text, false, false));
    }

    public synchronized String[] tokens(String text) {
        return tokenizer.encode(text, false, false).getTokens();
    }

    private static int[] toInts(Encoding e) {
        long[] ids = e.getIds();
        int[] r = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            r[i] = (int) ids[i];
        }
        return r;
    }

    /** Text of {@code ids}; special tokens are left out when {@code skipSpecial}. */
    public synchronized String decode(int[] ids, boolean skipSpecial) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, skipSpecial);
    }

    public String decode(int[] ids) {
        return decode(ids, true);
    }

    /**
     * Checks that every id this tokenizer can produce is a row of the model's embedding table
     * ({@code vocab_size}; a larger table, padded for speed, is fine).
     */
    public void requireFits(int vocabSize, Path modelDir) {
        if (idLimit > vocabSize) {
            throw new ModelFormatException(path + " defines token ids up to " + (idLimit - 1) + " but " + modelDir
                    + "/config.json has vocab_size " + vocabSize + ": the tokenizer belongs to another model;"
                    + " copy the checkpoint's own tokenizer.json into the folder");
        }
    }

    /** Id of a special token such as {@code <s>}, or -1. */
    public int specialTokenId(String content) {
        return specialTokens.getOrDefault(content, -1);
    }

    public Map<String, Integer> specialTokens() {
        return specialTokens;
    }

    public Path path() {
        return path;
    }

    @Override
    public synchronized void close() {
        tokenizer.close();
    }
}

package dev.specdec.engine.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Trains a byte-level BPE tokenizer (the GPT-2 / LLaMA-3 scheme) and writes it as a standard
 * HuggingFace {@code tokenizer.json}: ByteLevel pre-tokenizer and decoder, a BPE model with merges,
 * and a post-processor that prepends the BOS token. Special tokens take the first ids:
 * {@code <pad>} = 0 (also the CTC blank, never produced by the model), {@code <s>} = 1, {@code </s>} = 2.
 */
public final class BpeTrainer {
    public static final String PAD = "<pad>";
    public static final String BOS = "<s>";
    public static final String EOS = "</s>";
    public static final List<String> SPECIALS = List.of(PAD, BOS, EOS);

    /** GPT-2's pre-tokenization pattern: contractions, letters, digits, punctuation, whitespace runs. */
    static final Pattern PRETOKENIZE = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    private static final char[] BYTE_TO_CHAR = byteToUnicode();

    private BpeTrainer() {
    }

    /** GPT-2's reversible map from bytes to printable unicode characters. */
    static char[] byteToUnicode() {
        char[] map = new char[256];
        boolean[] direct = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            direct[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            direct[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            direct[b] = true;
        }
        int next = 0;
        for (int b = 0; b < 256; b++) {
            map[b] = direct[b] ? (char) b : (char) (256 + next++);
        }
        return map;
    }

    /** Byte-level symbols of one pre-token. */
    static String toByteChars(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            sb.append(BYTE_TO_CHAR[b & 0xFF]);
        }
        return sb.toString();
    }

    /** A word (pre-token) as a sequence of symbol ids, with its corpus frequency. */
    private static final class Word {
        int[] symbols;
        final long count;

        Word(int[] symbols, long count) {
            this.symbols = symbols;
            this.count = count;
        }
    }

    /**
     * Learns merges until the vocabulary (specials + 256 bytes + merges) reaches {@code vocabSize}.
     * Ties between equally frequent pairs break towards the pair whose symbols were created first,
     * so the result depends only on the text.
     */
    public static ObjectNode train(Iterable<String> texts, int vocabSize) {
        Map<String, Long> pieceCounts = new HashMap<>();
        for (String text : texts) {
            Matcher m = PRETOKENIZE.matcher(text);
            while (m.find()) {
                pieceCounts.merge(toByteChars(m.group()), 1L, Long::sum);
            }
        }
        List<String> symbols = new ArrayList<>();
        Map<String, Integer> symbolIds = new HashMap<>();
        for (String s : SPECIALS) {
            symbolIds.put(s, symbols.size());
            symbols.add(s);
        }
        for (int b = 0; b < 256; b++) {
            String s = String.valueOf(BYTE_TO_CHAR[b]);
            symbolIds.put(s, symbols.size());
            symbols.add(s);
        }
        List<Word> words = new ArrayList<>();
        List<String> sortedPieces = new ArrayList<>(pieceCounts.keySet());
        sortedPieces.sort(null);
        for (String piece : sortedPieces) {
            int[] ids = new int[piece.length()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = symbolIds.get(String.valueOf(piece.charAt(i)));
            }
            words.add(new Word(ids, pieceCounts.get(piece)));
        }
        List<String> merges = new ArrayList<>();
        Map<Long, Long> pairCounts = new HashMap<>();
        while (symbols.size() < vocabSize) {
            pairCounts.clear();
            for (Word w : words) {
                int[] s = w.symbols;
                for (int i = 0; i + 1 < s.length; i++) {
                    pairCounts.merge(((long) s[i] << 32) | s[i + 1], w.count, Long::sum);
                }
            }
            long best = -1;
            long bestCount = 0;
            for (Map.Entry<Long, Long> e : pairCounts.entrySet()) {
                long c = e.getValue();
                if (c > bestCount || (c == bestCount && Long.compareUnsigned(e.getKey(), best) < 0)) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (bestCount < 2) {
                break;   // nothing left worth merging
            }
            int left = (int) (best >>> 32);
            int right = (int) best;
            String merged = symbols.get(left) + symbols.get(right);
            int mergedId = symbols.size();
            symbols.add(merged);
            symbolIds.put(merged, mergedId);
            merges.add(symbols.get(left) + " " + symbols.get(right));
            for (Word w : words) {
                w.symbols = applyMerge(w.symbols, left, right, mergedId);
            }
        }
        return toTokenizerJson(symbols, merges);
    }

    private static int[] applyMerge(int[] s, int left, int right, int merged) {
        int n = 0;
        boolean found = false;
        for (int i = 0; i + 1 < s.length; i++) {
            if (s[i] == left && s[i + 1] == right) {
                found = true;
                break;
            }
        }
        if (!found) {
            return s;
        }
        int[] out = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            if (i + 1 < s.length && s[i] == left && s[i + 1] == right) {
                out[n++] = merged;
                i++;
            } else {
                out[n++] = s[i];
            }
        }
        int[] r = new int[n];
        System.arraycopy(out, 0, r, 0, n);
        return r;
    }

    private static ObjectNode toTokenizerJson(List<String> symbols, List<String> merges) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIALS.size(); i++) {
            ObjectNode a = added.addObject();
            a.put("id", i);
            a.put("content", SPECIALS.get(i));
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel");
        pre.put("add_prefix_space", false);
        pre.put("trim_offsets", true);
        pre.put("use_regex", true);
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 1);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode specials = post.putObject("special_tokens");
        ObjectNode bos = specials.putObject(BOS);
        bos.put("id", BOS);
        bos.putArray("ids").add(1);
        bos.putArray("tokens").add(BOS);
        ObjectNode dec = root.putObject("decoder");
        dec.put("type", "ByteLevel");
        dec.put("add_prefix_space", true);
        dec.put("trim_offsets", true);
        dec.put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        Map<String, Integer> ordered = new LinkedHashMap<>();
        for (int i = 0; i < symbols.size(); i++) {
            ordered.put(symbols.get(i), i);
        }
        ordered.forEach(vocab::put);
        ArrayNode m = model.putArray("merges");
        merges.forEach(m::add);
        return root;
    }

    public static void write(ObjectNode tokenizerJson, Path file) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, json.writeValueAsString(tokenizerJson), StandardCharsets.UTF_8);
    }
}

package dev.specdec.engine.train;

import dev.specdec.engine.tokenizer.TextTokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A plain-text corpus as one token stream: documents are separated by blank lines, lines inside a
 * document by a newline token, and each document ends with EOS. Training windows start at line
 * starts and are prefixed with BOS, the way a prompt reaches the model at inference time.
 */
public final class TokenCorpus {
    private final int[] tokens;
    private final int[] lineStarts;
    private final int[] documentStarts;
    private final int bos;

    private TokenCorpus(int[] tokens, int[] lineStarts, int[] documentStarts, int bos) {
        this.tokens = tokens;
        this.lineStarts = lineStarts;
        this.documentStarts = documentStarts;
        this.bos = bos;
    }

    /** Splits a text file into documents (blank-line separated) of lines. */
    public static List<List<String>> readDocuments(Path file) throws IOException {
        List<List<String>> docs = new ArrayList<>();
        List<String> cur = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                if (!cur.isEmpty()) {
                    docs.add(cur);
                    cur = new ArrayList<>();
                }
            } else {
                cur.add(line);
            }
        }
        if (!cur.isEmpty()) {
            docs.add(cur);
        }
        return docs;
    }

    public static TokenCorpus tokenize(List<List<String>> docs, TextTokenizer tok, int bos, int eos) {
        int newline = newlineToken(tok);
        IntList stream = new IntList();
        IntList lines = new IntList();
        IntList documents = new IntList();
        for (List<String> doc : docs) {
            documents.add(stream.size());
            for (int i = 0; i < doc.size(); i++) {
                if (i > 0 && newline >= 0) {
                    stream.add(newline);
                }
                lines.add(stream.size());
                for (int id : tok.encodeRaw(doc.get(i))) {
                    stream.add(id);
                }
            }
            stream.add(eos);
        }
        return new TokenCorpus(stream.toArray(), lines.toArray(), documents.toArray(), bos);
    }

    /**
     * The token that stands for a line break inside a text. Byte-level BPE encodes "\n" alone as that
     * one token; SentencePiece tokenizers (LLaMA 2) prepend their word marker, so of the ids it gives,
     * the one that decodes to "\n" is taken. A vocabulary without one (-1) joins a document's lines
     * with nothing between them: each line's encoding starts a new word anyway.
     */
    static int newlineToken(TextTokenizer tok) {
        int[] ids = tok.encodeRaw("\n");
        if (ids.length == 1) {
            return ids[0];
        }
        for (int id : ids) {
            if ("\n".equals(tok.decode(new int[] {id}, false))) {
                return id;
            }
        }
        return -1;
    }

    public int size() {
        return tokens.length;
    }

    public int[] tokens() {
        return tokens;
    }

    public int lineCount() {
        return lineStarts.length;
    }

    /**
     * A training batch for {@code step}: {@code batch} windows of {@code length + 1} ids (BOS, then
     * the stream from a random line start), drawn from randomness that depends only on
     * ({@code seed}, {@code step}) so a resumed run sees the same batches.
     */
    public int[][] sampleWindows(long seed, long step, int batch, int length) {
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step);
        int maxStart = tokens.length - length;
        int usable = upperBound(lineStarts, maxStart);
        if (usable <= 0) {
            throw new IllegalStateException("corpus of " + tokens.length + " tokens is shorter than one window");
        }
        int[][] out = new int[batch][];
        for (int b = 0; b < batch; b++) {
            out[b] = window(lineStarts[rnd.nextInt(usable)], length);
        }
        return out;
    }

    /** Evaluation windows: BOS + up to {@code length} tokens from each document start (fixed set). */
    public List<int[]> documentWindows(int length, int maxWindows) {
        List<int[]> out = new ArrayList<>();
        for (int d = 0; d < documentStarts.length && out.size() < maxWindows; d++) {
            int start = documentStarts[d];
            int end = d + 1 < documentStarts.length ? documentStarts[d + 1] : tokens.length;
            int n = Math.min(length, end - start);
            int[] w = new int[n + 1];
            w[0] = bos;
            System.arraycopy(tokens, start, w, 1, n);
            out.add(w);
        }
        return out;
    }

    private int[] window(int start, int length) {
        int[] w = new int[length + 1];
        w[0] = bos;
        System.arraycopy(tokens, start, w, 1, length);
        return w;
    }

    private static int upperBound(int[] sorted, int value) {
        int i = Arrays.binarySearch(sorted, value);
        return i >= 0 ? i + 1 : -i - 1;
    }

    /** Growable int array. */
    static final class IntList {
        private int[] a = new int[1024];
        private int n;

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        int size() {
            return n;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}

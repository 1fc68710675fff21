package dev.specdec.engine.request;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How a request is decoded: plain decoding or speculative decoding with one of the drafters. The one
 * place that knows each method's name on the command line and in records, the folder beside the
 * model its drafter is read from, and what {@code auto} means.
 */
public enum DecodingMethod {
    /** Plain autoregressive decoding, one base-model call per token. */
    NONE("none", null, false),
    /** The CTC drafter with the exact CTC transform (output equals plain decoding). */
    CTC("ctc", "drafter-ctc", true),
    /** The CTC drafter with the paper's transform (positions not renumbered). */
    CTC_FAITHFUL("ctc-faithful", "drafter-ctc", true),
    /** Medusa heads, the paper's baseline. */
    MEDUSA("medusa", "drafter-medusa", true),
    /** Prompt lookup: n-grams of the context propose their earlier continuations; no drafter to train. */
    NGRAM("ngram", null, true);

    /** The name that asks for the CTC drafter when the model has one and for plain decoding otherwise. */
    public static final String AUTO = "auto";

    private final String wireName;
    private final String folder;
    private final boolean speculative;

    DecodingMethod(String wireName, String folder, boolean speculative) {
        this.wireName = wireName;
        this.folder = folder;
        this.speculative = speculative;
    }

    /** The name commands, records and drafter files use ({@code ctc-faithful}, ...). */
    public String wireName() {
        return wireName;
    }

    /** The trained drafter's folder beside the model ({@code drafter-ctc}), or null when there is none to load. */
    public String drafterFolder() {
        return folder;
    }

    public boolean isSpeculative() {
        return speculative;
    }

    /** Whether this method loads a trained drafter from a folder. */
    public boolean hasDrafterFolder() {
        return folder != null;
    }

    /** The drafter folder this method reads: {@code override} when given, else the one beside the model. */
    public Path drafterDir(Path modelDir, Path override) {
        if (folder == null) {
            throw new IllegalStateException(wireName + " has no drafter folder");
        }
        return override != null ? override : modelDir.resolve(folder);
    }

    /** Every wire name, for messages. */
    public static List<String> names() {
        return Arrays.stream(values()).map(DecodingMethod::wireName).toList();
    }

    /** The method by wire name (case-insensitive, {@code _} and {@code -} alike); not {@code auto}. */
    public static DecodingMethod parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (DecodingMethod m : values()) {
            if (m.wireName.equals(n)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown drafter '" + name + "' (use one of " + names() + ")");
    }

    /**
     * The method a name stands for: {@code auto} is {@link #CTC} when a CTC drafter is present (in
     * {@code drafterDir}, or {@code drafter-ctc/} beside the model), otherwise {@link #NONE}.
     */
    public static DecodingMethod resolve(String name, Path modelDir, Path drafterDir) {
        if (name != null && name.trim().equalsIgnoreCase(AUTO)) {
            Path dir = CTC.drafterDir(modelDir, drafterDir);
            return Files.isRegularFile(dir.resolve("drafter.json")) ? CTC : NONE;
        }
        return parse(name);
    }
}

package dev.specdec.engine.speculative;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.model.ModelFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A drafter folder's {@code drafter.json}: which kind of drafter it is and how to decode with it
 * (depth lists, their width, the default tree, the CTC blank id), and the fingerprint of the base
 * model it was trained for ({@code ModelFingerprint}; null in drafters written before it existed).
 */
public record DrafterConfig(String type, int depth, int width, String tree, int blank, String baseFingerprint) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** The deepest chain {@code auto} drafts (deeper drafts are almost never all accepted). */
    static final int AUTO_DEPTH = 16;

    public static DrafterConfig load(Path dir) throws IOException {
        Path f = dir.resolve("drafter.json");
        if (!Files.isRegularFile(f)) {
            throw new ModelFormatException("no drafter.json in " + dir + " (train one with `specdec train-drafter`)");
        }
        JsonNode j = JSON.readTree(f.toFile());
        String type = j.path("type").asText("ctc");
        if (!type.equals("ctc") && !type.equals("medusa")) {
            throw new ModelFormatException(f + ": unknown drafter type '" + type + "'");
        }
        return new DrafterConfig(type, j.path("depth").asInt(4), j.path("width").asInt(10),
                j.path("tree").asText(defaultTree(type)), j.path("blank").asInt(0),
                j.hasNonNull("base_fingerprint") ? j.get("base_fingerprint").asText() : null);
    }

    /**
     * Checks that this drafter was trained for the base model of {@code fingerprint}; a drafter
     * without a recorded fingerprint is taken on trust.
     */
    public void requireBase(String fingerprint, Path drafterDir, Path modelDir) {
        if (baseFingerprint != null && !baseFingerprint.equals(fingerprint)) {
            throw new ModelFormatException("the drafter in " + drafterDir + " was trained for another base model ("
                    + baseFingerprint + ", not " + modelDir + ", " + fingerprint + "): train one for this model with"
                    + " `specdec train-drafter --model " + modelDir + "`");
        }
    }

    /** The tree a drafter of this type decodes with unless its drafter.json says otherwise. */
    public static String defaultTree(String type) {
        return type.equals("medusa") ? "ranked:6" : "auto";
    }

    public void save(Path dir, ObjectNode extra) throws IOException {
        ObjectNode j = JSON.createObjectNode();
        j.put("type", type);
        j.put("depth", depth);
        j.put("width", width);
        j.put("tree", tree);
        j.put("blank", blank);
        if (baseFingerprint != null) {
            j.put("base_fingerprint", baseFingerprint);
        }
        if (extra != null) {
            j.setAll(extra);
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("drafter.json"), JSON.writeValueAsString(j));
    }

    /**
     * Parses a tree name: {@code auto} (a chain whose depth is chosen per step, up to the drafter's
     * longest chain; {@code auto:N} up to N), {@code paper} (the 63-node tree), {@code ranked:N},
     * {@code chain:N}.
     */
    public static TreePolicy parseTree(String spec, int depth, int width) {
        return parseTree(spec, depth, width, depth);
    }

    /**
     * As {@link #parseTree(String, int, int)}, with chains allowed up to {@code maxChain} tokens: a CTC
     * draft module drafts autoregressively to any depth, Medusa has one head per position.
     */
    public static TreePolicy parseTree(String spec, int depth, int width, int maxChain) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("paper") || s.equals("paper-63")) {
            return StaticTree.paper();
        }
        if (s.equals("auto")) {
            return new AdaptiveChain(Math.min(AUTO_DEPTH, maxChain));
        }
        int colon = s.indexOf(':');
        String kind = colon < 0 ? s : s.substring(0, colon);
        int n;
        try {
            n = colon < 0 ? -1 : Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1) {
            throw new IllegalArgumentException("tree '" + spec + "': use auto, auto:N, paper, ranked:N or chain:N with N >= 1");
        }
        return switch (kind) {
            case "auto" -> new AdaptiveChain(Math.min(n, maxChain));
            case "ranked" -> new RankedTree(n, depth, width);
            case "chain" -> StaticTree.chain(Math.min(n, maxChain));
            default -> throw new IllegalArgumentException("tree '" + spec + "': use auto, auto:N, paper, ranked:N or chain:N");
        };
    }
}

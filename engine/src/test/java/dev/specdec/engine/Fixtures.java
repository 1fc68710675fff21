package dev.specdec.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Locates the shared golden fixtures ({@code ../shared/fixtures} beside the project root) and skips
 * the calling test, with a message saying why, when they are absent (a user's checkout has none).
 */
public final class Fixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {
    }

    public static Path projectRoot() {
        String prop = System.getProperty("specdec.projectRoot");
        Path p = prop != null ? Paths.get(prop) : Paths.get("").toAbsolutePath();
        Path cur = p.toAbsolutePath();
        while (cur != null && !Files.isDirectory(cur.resolve("engine"))) {
            cur = cur.getParent();
        }
        return cur != null ? cur : p.toAbsolutePath();
    }

    /** The shared fixtures folder, or the test is skipped. */
    public static Path dir() {
        Path f = projectRoot().resolveSibling("shared").resolve("fixtures");
        Assumptions.assumeTrue(Files.isDirectory(f),
                "golden fixtures not found at " + f + " (../shared/fixtures is only present on the project's own machines); skipping");
        return f;
    }

    public static Path model(String name) {
        return dir().resolve("models").resolve(name);
    }

    /** The shared data folder ({@code ../shared/data}), or the test is skipped. */
    public static Path data() {
        Path f = projectRoot().resolveSibling("shared").resolve("data");
        Assumptions.assumeTrue(Files.isDirectory(f), "shared data not found at " + f + "; skipping");
        return f;
    }

    public static JsonNode json(Path p) throws IOException {
        return JSON.readTree(p.toFile());
    }

    public static int[] ints(JsonNode arr) {
        int[] r = new int[arr.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = arr.get(i).asInt();
        }
        return r;
    }

    public static float[] floats(JsonNode arr) {
        float[] r = new float[arr.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = (float) arr.get(i).asDouble();
        }
        return r;
    }
}

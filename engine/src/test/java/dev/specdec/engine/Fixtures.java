package dev.specdec.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Locates the golden fixtures of the reference implementations and the other test data. They live
 * in the engine's test resources ({@code engine/src/test/resources/fixtures}, copied unchanged from
 * the references' outputs with their README and versions file), so every clone runs every golden
 * test; a missing fixture fails the test instead of skipping it.
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

    /** The golden fixtures folder. */
    public static Path dir() {
        return resource("fixtures");
    }

    public static Path model(String name) {
        return dir().resolve("models").resolve(name);
    }

    /** A file or folder of the engine's test resources. */
    public static Path resource(String relative) {
        URL url = Fixtures.class.getClassLoader().getResource(relative);
        if (url == null) {
            throw new IllegalStateException("test resource '" + relative + "' is missing (engine/src/test/resources)");
        }
        try {
            return Paths.get(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
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

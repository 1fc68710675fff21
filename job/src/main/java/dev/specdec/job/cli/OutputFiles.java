package dev.specdec.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The JSON-lines files a job's file sinks committed in a folder. Files still in progress or pending
 * a checkpoint are hidden (their names start with a dot) and are not part of the output.
 */
public final class OutputFiles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OutputFiles() {
    }

    public static List<Path> committed(Path dir, String prefix) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> Files.isRegularFile(f) && f.getFileName().toString().startsWith(prefix)
                    && f.getFileName().toString().endsWith(".jsonl")).sorted().toList();
        }
    }

    public static List<JsonNode> committedLines(Path dir, String prefix) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (Path f : committed(dir, prefix)) {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    out.add(JSON.readTree(line));
                }
            }
        }
        return out;
    }

    /**
     * Deletes the hidden in-progress files of {@code prefix} in {@code dir}: after a job has finished,
     * what is still hidden was written by a killed run after its last checkpoint and was redone.
     */
    static void removeAbandoned(Path dir, String prefix) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(f -> Files.isRegularFile(f) && f.getFileName().toString().startsWith("." + prefix))
                    .toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    /** Makes {@code dir} ready for a new run: refuses to mix with an earlier run's files unless {@code overwrite}. */
    static void prepare(Path dir, boolean overwrite) throws IOException {
        Files.createDirectories(dir);
        List<Path> old = new ArrayList<>(committed(dir, "results"));
        old.addAll(committed(dir.resolve("dead-letters"), "dead-letters"));
        if (old.isEmpty()) {
            return;
        }
        if (!overwrite) {
            throw new IllegalArgumentException("output folder " + dir + " already holds results of an earlier run"
                    + " (pass --overwrite to replace them, or choose another --output)");
        }
        for (Path f : old) {
            Files.delete(f);
        }
    }
}

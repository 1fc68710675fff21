package dev.specdec.job;

import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.job.cli.OutputFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Test helpers over what a job's file sinks committed. */
public final class JobFiles {
    private JobFiles() {
    }

    public static List<JsonNode> committedLines(Path dir, String prefix) throws IOException {
        return OutputFiles.committedLines(dir, prefix);
    }

    public static int[] ints(JsonNode array) {
        int[] v = new int[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = array.get(i).asInt();
        }
        return v;
    }
}

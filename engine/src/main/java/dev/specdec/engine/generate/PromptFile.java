package dev.specdec.engine.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads prompt datasets, one JSON object per line, in the formats users bring: plain
 * {@code {"id","prompt"}} (optional {@code "category"}), MT-bench ({@code question_id}, {@code category},
 * {@code turns}: the first turn is the prompt) and GSM8K ({@code question_id} or {@code id},
 * {@code question}).
 */
public final class PromptFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One prompt of a dataset. */
    public record Prompt(String id, String category, String text) {
    }

    private PromptFile() {
    }

    public static List<Prompt> read(Path file) throws IOException {
        List<Prompt> out = new ArrayList<>();
        int lineNo = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode j;
            try {
                j = JSON.readTree(line);
            } catch (IOException e) {
                throw new InvalidRequestException(file + ":" + lineNo + ": not valid JSON");
            }
            out.add(parse(j, file + ":" + lineNo, out.size()));
        }
        return out;
    }

    /** One line's prompt; {@code where} names it in error messages, {@code index} numbers it when it has no id. */
    public static Prompt parse(JsonNode j, String where, int index) {
        String id = j.hasNonNull("id") ? j.get("id").asText()
                : j.hasNonNull("question_id") ? j.get("question_id").asText() : Integer.toString(index + 1);
        String category = j.hasNonNull("category") ? j.get("category").asText() : "";
        String text;
        if (j.hasNonNull("prompt")) {
            text = j.get("prompt").asText();
        } else if (j.has("turns") && j.get("turns").isArray() && j.get("turns").size() > 0) {
            text = j.get("turns").get(0).asText();
        } else if (j.hasNonNull("question")) {
            text = j.get("question").asText();
        } else {
            throw new InvalidRequestException(where + ": no \"prompt\", \"turns\" or \"question\" field");
        }
        return new Prompt(id, category, text);
    }
}

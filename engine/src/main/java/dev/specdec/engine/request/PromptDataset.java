package dev.specdec.engine.request;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one reader of prompt datasets, one JSON object per line, in the forms users bring: plain
 * {@code {"id","prompt"}} (optional {@code "category"}), MT-bench ({@code question_id}, {@code category},
 * {@code turns}: the first turn is the prompt) and GSM8K ({@code question_id} or {@code id},
 * {@code question}). {@code generate --prompts} and {@code bench} read files with it; the job's
 * request parser takes a line's id and prompt from {@link #idOf} and {@link #promptOf}.
 */
public final class PromptDataset {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One prompt of a dataset. */
    public record Prompt(String id, String category, String text) {
    }

    private PromptDataset() {
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
        if (j == null || !j.isObject()) {
            throw new InvalidRequestException(where + ": expected a JSON object");
        }
        String id = idOf(j);
        String text;
        try {
            text = promptOf(j);
        } catch (InvalidRequestException e) {
            throw new InvalidRequestException(where + ": " + e.getMessage());
        }
        if (text == null) {
            throw new InvalidRequestException(where + ": no \"prompt\", \"question\" or \"turns\" field");
        }
        String category = j.hasNonNull("category") ? j.get("category").asText() : "";
        return new Prompt(id != null ? id : Integer.toString(index + 1), category, text);
    }

    /** A line's own id ({@code request_id}, {@code id} or {@code question_id}, a string or a number), else null. */
    public static String idOf(JsonNode j) {
        for (String name : new String[] {"request_id", "id", "question_id"}) {
            JsonNode v = j.get(name);
            if (v != null && (v.isTextual() || v.isNumber())) {
                return v.asText();
            }
        }
        return null;
    }

    /**
     * A line's prompt text: {@code prompt}, else {@code question}, else the first of {@code turns};
     * null when the line has none of them (a chat request carries {@code messages} instead).
     *
     * @throws InvalidRequestException when one of those fields has the wrong type
     */
    public static String promptOf(JsonNode j) {
        for (String name : new String[] {"prompt", "question"}) {
            JsonNode v = j.get(name);
            if (v != null && !v.isNull()) {
                if (!v.isTextual()) {
                    throw new InvalidRequestException(name + " must be a string");
                }
                return v.asText();
            }
        }
        JsonNode turns = j.get("turns");
        if (turns == null || turns.isNull()) {
            return null;
        }
        if (!turns.isArray()) {
            throw new InvalidRequestException("turns must be an array");
        }
        if (turns.isEmpty()) {
            return null;
        }
        if (!turns.get(0).isTextual()) {
            throw new InvalidRequestException("turns must hold strings");
        }
        return turns.get(0).asText();
    }
}

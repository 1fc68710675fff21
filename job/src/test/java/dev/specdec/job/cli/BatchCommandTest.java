package dev.specdec.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.cli.SpecdecMain;
import dev.specdec.engine.testing.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code specdec batch} end to end, in process: MT-bench and GSM8K style lines in, JSON-lines
 * results out with the metadata echoed; a second run into the same folder is refused without
 * {@code --overwrite}.
 */
class BatchCommandTest {

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void batchWritesOneResultPerPromptAndRefusesToMixRuns(@TempDir Path tmp) throws Exception {
        Path model = TinyModel.create(tmp.resolve("model"));
        Path input = tmp.resolve("questions.jsonl");
        Files.write(input, List.of(
                "{\"question_id\": 81, \"category\": \"writing\", \"turns\": [\"And God said\", \"second turn\"]}",
                "{\"question_id\": 82, \"category\": \"roleplay\", \"turns\": [\"The quick brown fox\"]}",
                "{\"id\": \"gsm-1\", \"question\": \"And the evening and the morning\"}"));
        Path out = tmp.resolve("out");
        String[] args = {"batch", "--model", model.toString(), "--input", input.toString(), "--output", out.toString(),
                "--max-new-tokens", "12", "--batch-size", "2", "--web-port", "18081", "--checkpoint-interval", "500ms"};
        assertEquals(0, run(args));
        List<JsonNode> results = OutputFiles.committedLines(out, "results");
        assertEquals(3, results.size(), results.toString());
        for (JsonNode r : results) {
            assertEquals("length", r.get("finish_reason").asText(), r.toString());
            assertEquals(12, r.get("token_ids").size());
        }
        assertTrue(results.stream().anyMatch(r -> r.get("request_id").asText().equals("81")
                && r.get("metadata").get("category").asText().equals("writing")));
        assertTrue(results.stream().anyMatch(r -> r.get("request_id").asText().equals("gsm-1")));

        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new SpecdecMain());
        cl.setErr(new PrintWriter(err));
        assertEquals(2, dev.specdec.engine.cli.EngineMain.execute(cl, args));
        assertTrue(err.toString().contains("--overwrite"), err.toString());
    }

    static int run(String... args) {
        return dev.specdec.engine.cli.EngineMain.execute(new CommandLine(new SpecdecMain()), args);
    }
}

package dev.specdec.engine.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.model.ModelConfig;
import dev.specdec.engine.tokenizer.BpeTrainer;
import dev.specdec.engine.train.TrainableLlama;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code specdec generate} end to end: JSON output, prompt files, and clear errors for bad input. */
class GenerateCommandTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void makeModel() throws Exception {
        model = dir.resolve("tiny");
        ObjectNode json = ModelConfig.llamaConfigJson(32, 64, 2, 4, 2, 300, 48, 10000, false, 1, 2);
        try (NDManager m = NDManager.newBaseManager()) {
            TrainableLlama.initialize(ModelConfig.parse(json, null), m, 9).save(model, json);
        }
        BpeTrainer.write(BpeTrainer.train(List.of("In the beginning God created the heaven and the earth.",
                "And God said, Let there be light: and there was light."), 300), model.resolve("tokenizer.json"));
    }

    private static CliRun.Result run(String... args) {
        return CliRun.run(args);
    }

    @Test
    void printsJsonForAPromptAndForTokenIds() throws Exception {
        CliRun.Result r = run("generate", "--model", model.toString(), "--drafter", "none", "--prompt", "And God said",
                "--max-new-tokens", "5", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out().trim());
        assertEquals(5, j.get("token_ids").size());
        assertEquals("length", j.get("finish_reason").asText());
        assertTrue(j.has("text"));
        CliRun.Result ids = run("generate", "--model", model.toString(), "--drafter", "none", "--prompt-ids", "1,5,9",
                "--max-new-tokens", "3", "--temperature", "0.7", "--top-p", "0.9", "--top-k", "20", "--seed", "4", "--json");
        assertEquals(0, ids.code(), ids.err());
        assertEquals(3, new ObjectMapper().readTree(ids.out().trim()).get("token_ids").size());
    }

    @Test
    void defaultsToPlainDecodingForAModelWithoutDrafter() throws Exception {
        CliRun.Result r = run("generate", "--model", model.toString(), "--prompt-ids", "1,7,9", "--max-new-tokens", "4", "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals(0, new ObjectMapper().readTree(r.out().trim()).get("speculative").get("accepted_draft_tokens").asInt());
    }

    @Test
    void readsPromptFilesInAllFormats(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("p.jsonl");
        Files.writeString(f, "{\"id\":\"a\",\"prompt\":\"And God\"}\n"
                + "{\"question_id\":81,\"category\":\"writing\",\"turns\":[\"Compose a poem\",\"again\"]}\n"
                + "{\"question_id\":7,\"question\":\"What is 2+2?\"}\n");
        CliRun.Result r = run("generate", "--model", model.toString(), "--drafter", "none", "--prompts", f.toString(),
                "--max-new-tokens", "2", "--json");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().trim().split("\n");
        assertEquals(3, lines.length);
        assertEquals("81", new ObjectMapper().readTree(lines[1]).get("id").asText());
    }

    @Test
    void badInputGivesOneLineErrorsAndNonZeroExit() {
        CliRun.Result missing = run("generate", "--model", dir.resolve("nope").toString(), "--prompt", "x");
        assertEquals(2, missing.code());
        assertTrue(missing.err().startsWith("error: ") && missing.err().contains("does not exist"), missing.err());
        assertFalse(missing.err().contains("\tat "), "no stack trace");

        StringBuilder longPrompt = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            longPrompt.append("light ");
        }
        CliRun.Result tooLong = run("generate", "--model", model.toString(), "--drafter", "none", "--prompt", longPrompt.toString());
        assertEquals(2, tooLong.code());
        assertTrue(tooLong.err().contains("does not fit the context"), tooLong.err());

        CliRun.Result temp = run("generate", "--model", model.toString(), "--drafter", "none", "--prompt", "x", "--temperature", "-1");
        assertEquals(2, temp.code());
        assertTrue(temp.err().contains("temperature"), temp.err());

        CliRun.Result topP = run("generate", "--model", model.toString(), "--drafter", "none", "--prompt", "x", "--top-p", "0");
        assertEquals(2, topP.code());
        assertTrue(topP.err().contains("top_p"), topP.err());

        CliRun.Result noDrafter = run("generate", "--model", model.toString(), "--drafter", "ctc", "--prompt", "x");
        assertEquals(2, noDrafter.code());
        assertTrue(noDrafter.err().contains("drafter"), noDrafter.err());
    }
}

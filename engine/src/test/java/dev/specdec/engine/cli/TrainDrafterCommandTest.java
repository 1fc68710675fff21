package dev.specdec.engine.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.specdec.engine.io.CheckpointReader;
import dev.specdec.engine.io.SafetensorsWriter;
import dev.specdec.engine.model.DraftModule;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.ModelFormatException;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.engine.tokenizer.BpeTrainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code specdec train-drafter} where a user gets stuck: each problem is one line that names it and
 * the fix, with exit code 2 and no stack trace; a run without a held-out set says so instead of NaN.
 */
class TrainDrafterCommandTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path corpus;

    @BeforeAll
    static void makeModel() throws Exception {
        model = TinyModel.create(dir.resolve("tiny"));
        corpus = dir.resolve("corpus.txt");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            text.append(String.join("\n", TinyModel.CORPUS)).append("\n\n");
        }
        Files.writeString(corpus, text.toString());
    }

    private static CliRun.Result train(Path modelDir, Path text, String... more) {
        return trainInto(dir.resolve("out-" + modelDir.getFileName()), modelDir, text, more);
    }

    private static CliRun.Result trainInto(Path out, Path modelDir, Path text, String... more) {
        List<String> args = new ArrayList<>(List.of("train-drafter", "--model", modelDir.toString(), "--corpus",
                text.toString(), "--out", out.toString(), "--window", "16",
                "--batch", "2", "--micro-batch", "2", "--steps", "2", "--warmup", "1", "--feature-tokens", "400"));
        args.addAll(List.of(more));
        return CliRun.run(args.toArray(String[]::new));
    }

    private static void assertOneLineError(CliRun.Result r, String... words) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().startsWith("error: "), r.err());
        for (String w : words) {
            assertTrue(r.err().contains(w), "'" + w + "' in: " + r.err());
        }
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void aRunWithoutHeldOutTextSaysSo() {
        CliRun.Result r = train(model, corpus);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("no held-out set"), r.out());
        assertFalse(r.out().contains("NaN"), r.out());
        assertTrue(r.stderr().contains("train-drafter: step 2/2 (100%), "), "the final progress line: " + r.stderr());
        assertTrue(r.stderr().contains("train-drafter: base features: window "), r.stderr());
    }

    @Test
    void missingFilesAreNamedWithTheFix() throws Exception {
        assertOneLineError(train(model, dir.resolve("missing.txt")), "missing.txt", "--corpus");
        assertOneLineError(train(model, corpus, "--heldout", dir.resolve("nope.txt").toString()), "nope.txt", "--heldout");
        assertOneLineError(train(dir.resolve("no-model"), corpus), "no-model", "does not exist");
        Path noWeights = dir.resolve("no-weights");
        Files.createDirectories(noWeights);
        Files.copy(model.resolve("config.json"), noWeights.resolve("config.json"));
        Files.copy(model.resolve("tokenizer.json"), noWeights.resolve("tokenizer.json"));
        assertOneLineError(train(noWeights, corpus), "safetensors");
    }

    @Test
    void aTokenizerOfAnotherModelIsRefused() throws Exception {
        Path other = dir.resolve("other-tokenizer");
        Files.createDirectories(other);
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.copy(model.resolve(f), other.resolve(f));
        }
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            texts.addAll(TinyModel.CORPUS);
        }
        BpeTrainer.write(BpeTrainer.train(texts, TinyModel.VOCAB + 40), other.resolve("tokenizer.json"));
        assertOneLineError(train(other, corpus), "vocab_size " + TinyModel.VOCAB, "another model");
    }

    @Test
    void aCorpusShorterThanOneWindowIsNamed() throws Exception {
        Path tiny = dir.resolve("tiny-corpus.txt");
        Files.writeString(tiny, "And God said.\n");
        assertOneLineError(train(model, tiny), "tiny-corpus.txt", "fewer than one training window",
                "--window");
    }

    @Test
    void withEmbeddingsTheDrafterCarriesTheBaseEmbeddingAndLoadsEitherWay() throws Exception {
        Path with = dir.resolve("with-embeddings");
        Path without = dir.resolve("without-embeddings");
        CliRun.Result r = trainInto(with, model, corpus, "--with-embeddings");
        assertEquals(0, r.code(), r.err());
        r = trainInto(without, model, corpus);
        assertEquals(0, r.code(), r.err());
        try (LlamaModel base = LlamaModel.load(model, null)) {
            float[] embedding = base.embeddings().toFloatArray();
            try (CheckpointReader w = CheckpointReader.openFile(with.resolve("model.safetensors"));
                 CheckpointReader wo = CheckpointReader.openFile(without.resolve("model.safetensors"))) {
                assertArrayEquals(base.embeddings().getShape().getShape(), w.shapeOf("embed_tokens.weight"));
                assertArrayEquals(embedding, w.sample("embed_tokens.weight", 0, embedding.length));
                assertFalse(wo.has("embed_tokens.weight"));
            }
            DraftModule.load(with.resolve("model.safetensors"), base).close();
            DraftModule.load(without.resolve("model.safetensors"), base).close();
        }
        assertTrue(layoutOf(with).get("embedding").asText().startsWith("embed_tokens.weight in this folder"));
        assertTrue(layoutOf(without).get("embedding").asText().startsWith("shared with base model"));
    }

    @Test
    void anEmbeddingOfAnotherShapeIsRefusedWithItsShapes() throws Exception {
        Path source = dir.resolve("reshaped-source");
        assertEquals(0, trainInto(source, model, corpus).code());
        Path bad = dir.resolve("reshaped.safetensors");
        try (LlamaModel base = LlamaModel.load(model, null); NDManager m = NDManager.newBaseManager();
             CheckpointReader r = CheckpointReader.openFile(source.resolve("model.safetensors"))) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (String name : r.names()) {
                tensors.put(name, r.read(m, name, r.shapeOf(name)));
            }
            tensors.put("embed_tokens.weight", m.zeros(new Shape(base.config.vocabSize + 8, base.config.hiddenSize)));
            SafetensorsWriter.write(bad, tensors, Map.of());
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> DraftModule.load(bad, base));
            assertTrue(e.getMessage().contains("embed_tokens.weight of shape [" + (base.config.vocabSize + 8))
                    && e.getMessage().contains("base model's embedding is [" + base.config.vocabSize), e.getMessage());
        }
    }

    @Test
    void withEmbeddingsIsRefusedForMedusa() {
        assertOneLineError(trainInto(dir.resolve("medusa-embeddings"), model, corpus, "--type", "medusa",
                "--with-embeddings"), "--with-embeddings", "ctc");
    }

    private static JsonNode layoutOf(Path drafter) throws Exception {
        return new ObjectMapper().readTree(drafter.resolve("drafter.json").toFile()).get("layout");
    }
}

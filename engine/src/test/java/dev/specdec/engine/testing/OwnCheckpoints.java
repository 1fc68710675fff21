package dev.specdec.engine.testing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.Fixtures;
import dev.specdec.engine.tokenizer.BpeTrainer;
import dev.specdec.engine.train.DraftObjective;
import dev.specdec.engine.train.DrafterTrainer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Checkpoints of the forms users bring, made here: a sharded F16 LLaMA-3.1 (llama3 rope scaling,
 * GQA, tied head) and a single-file BF16 Qwen2 with q/k/v biases, each with a fitting tokenizer, or
 * a copy of a reference fixture; and a few-step drafter training for any of them.
 */
public final class OwnCheckpoints {
    public static final String LLAMA31_F16_SHARDED = "llama31-f16-sharded";
    public static final String QWEN2_BF16_BIAS = "qwen2-bf16-bias";
    private static final int VOCAB = 300;

    private OwnCheckpoints() {
    }

    /** Both drafters (CTC module and Medusa heads) for {@code model}, a few steps each. */
    public static void trainDrafters(Path model, Path corpus) throws IOException {
        for (DraftObjective.Kind kind : DraftObjective.Kind.values()) {
            new DrafterTrainer(options(model, corpus, kind)).run();
        }
    }

    /** Writes the named form (a constant here, or a reference fixture's name) into {@code dir}, with a tokenizer. */
    public static Path write(String form, Path dir) throws IOException {
        switch (form) {
            case LLAMA31_F16_SHARDED -> {
                SyntheticLlama.Variant v = new SyntheticLlama.Variant("llama", 32, 64, 2, 4, 2, 8, VOCAB, true, false, false,
                        false, 0, "F16", 3);
                ObjectNode c = SyntheticLlama.withLlama31Rope(SyntheticLlama.config(v));
                SyntheticLlama.weights(v).write(dir, "F16", 3, c);
                writeTokenizer(dir);
            }
            case QWEN2_BF16_BIAS -> {
                SyntheticLlama.Variant v = new SyntheticLlama.Variant("qwen2", 32, 64, 2, 4, 2, 8, VOCAB, true, true, false,
                        false, 0, "BF16", 1);
                ObjectNode c = SyntheticLlama.config(v);
                c.put("rope_theta", 1000000.0);
                SyntheticLlama.weights(v).write(dir, "BF16", 1, c);
                writeTokenizer(dir);
            }
            default -> copy(Fixtures.model(form), dir);
        }
        return dir;
    }

    private static void writeTokenizer(Path dir) throws IOException {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            texts.addAll(TinyModel.CORPUS);
        }
        BpeTrainer.write(BpeTrainer.train(texts, VOCAB), dir.resolve("tokenizer.json"));
    }

    public static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }

    /** A small training text (the tiny corpus, six times, blank lines between documents) in {@code dir}. */
    public static Path corpus(Path dir) throws IOException {
        Path f = dir.resolve("corpus.txt");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            for (String line : TinyModel.CORPUS) {
                text.append(line).append("\n\n");
            }
        }
        Files.writeString(f, text.toString());
        return f;
    }

    /** A few steps of drafter training: enough to exercise every part, not to draft well. */
    public static DrafterTrainer.Options options(Path model, Path corpus, DraftObjective.Kind kind) {
        DrafterTrainer.Options o = new DrafterTrainer.Options();
        o.model = model;
        o.corpus = corpus;
        o.kind = kind;
        o.out = model.resolve(kind == DraftObjective.Kind.CTC ? "drafter-ctc" : "drafter-medusa");
        o.window = 16;
        o.batch = 2;
        o.microBatch = 2;
        o.steps = 4;
        o.warmup = 1;
        o.heads = 2;
        o.depth = 4;
        o.tree = kind == DraftObjective.Kind.CTC ? "auto" : "ranked:4";
        o.featureTokens = 2000;
        o.logEvery = 100;
        o.evalEvery = 100;
        o.checkpointEvery = 100;
        o.log = new PrintStream(OutputStream.nullOutputStream());
        return o;
    }
}

package dev.specdec.engine.cli;

import dev.specdec.engine.train.BaseTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code specdec train-base}: pretrain a small LLaMA (and its tokenizer) on a text corpus. */
@Command(name = "train-base", mixinStandardHelpOptions = true,
        description = {"Pretrain a small LLaMA base model and its byte-level BPE tokenizer on plain text.",
                "Resumes automatically from the newest checkpoint under --out. Writes a HuggingFace checkpoint folder."})
public final class TrainBaseCommand implements Callable<Integer> {
    @Option(names = "--corpus", required = true, description = "Training text: documents separated by blank lines.")
    Path corpus;
    @Option(names = "--heldout", description = "Held-out text for evaluation (never trained on).")
    Path heldout;
    @Option(names = "--out", required = true, description = "Output checkpoint folder.")
    Path out;
    @Option(names = "--tokenizer", description = "Use this tokenizer.json instead of training one.")
    Path tokenizer;
    @Option(names = "--vocab", defaultValue = "4096") int vocab;
    @Option(names = "--hidden", defaultValue = "256") int hidden;
    @Option(names = "--intermediate", defaultValue = "704") int intermediate;
    @Option(names = "--layers", defaultValue = "12") int layers;
    @Option(names = "--heads", defaultValue = "8") int heads;
    @Option(names = "--kv-heads", defaultValue = "4") int kvHeads;
    @Option(names = "--context", defaultValue = "1024", description = "max_position_embeddings") int context;
    @Option(names = "--tie-embeddings", description = "Share the embedding table with the LM head.") boolean tie;
    @Option(names = "--seq-len", defaultValue = "512") int seqLen;
    @Option(names = "--batch", defaultValue = "8") int batch;
    @Option(names = "--micro-batch", defaultValue = "2", description = "Sequences per forward/backward pass (gradient accumulation).") int microBatch;
    @Option(names = "--steps", defaultValue = "4000") int steps;
    @Option(names = "--lr", defaultValue = "1e-3") double lr;
    @Option(names = "--warmup", defaultValue = "200") int warmup;
    @Option(names = "--min-lr-ratio", defaultValue = "0.1") double minLrRatio;
    @Option(names = "--weight-decay", defaultValue = "0.1") double weightDecay;
    @Option(names = "--clip", defaultValue = "1.0", description = "Global gradient-norm clip.") double clip;
    @Option(names = "--log-every", defaultValue = "10") int logEvery;
    @Option(names = "--eval-every", defaultValue = "200") int evalEvery;
    @Option(names = "--checkpoint-every", defaultValue = "100") int checkpointEvery;
    @Option(names = "--seed", defaultValue = "1234") long seed;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(corpus)) {
            throw new CliException("corpus " + corpus + " not found (scripts/kjv-corpus.sh builds the bundled one)");
        }
        if (steps <= 0 || batch <= 0 || seqLen <= 1 || lr <= 0 || seqLen > context) {
            throw new CliException("steps, batch and lr must be positive and 1 < seq-len <= context");
        }
        BaseTrainer.Options o = new BaseTrainer.Options();
        o.corpus = corpus;
        o.heldout = heldout;
        o.out = out;
        o.tokenizer = tokenizer;
        o.vocabSize = vocab;
        o.hidden = hidden;
        o.intermediate = intermediate;
        o.layers = layers;
        o.heads = heads;
        o.kvHeads = kvHeads;
        o.maxPositions = context;
        o.tieEmbeddings = tie;
        o.seqLen = seqLen;
        o.batch = batch;
        o.microBatch = microBatch;
        o.steps = steps;
        o.lr = lr;
        o.warmup = warmup;
        o.minLrRatio = minLrRatio;
        o.weightDecay = weightDecay;
        o.clip = clip;
        o.logEvery = logEvery;
        o.evalEvery = evalEvery;
        o.checkpointEvery = checkpointEvery;
        o.seed = seed;
        BaseTrainer.Result r = new BaseTrainer(o).run();
        System.out.printf(Locale.ROOT, "done: %d steps in %s, held-out loss %.4f (perplexity %.2f)%n", r.lastStep(),
                dev.specdec.engine.progress.Eta.duration(r.seconds()), r.heldoutLoss(), Math.exp(r.heldoutLoss()));
        return 0;
    }
}

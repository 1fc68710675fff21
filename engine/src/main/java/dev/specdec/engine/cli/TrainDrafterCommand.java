package dev.specdec.engine.cli;

import dev.specdec.engine.progress.Eta;
import dev.specdec.engine.train.DraftObjective;
import dev.specdec.engine.train.DrafterTrainer;
import dev.specdec.engine.speculative.DrafterConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code specdec train-drafter}: train a CTC draft module (or Medusa heads) for a base model. */
@Command(name = "train-drafter", mixinStandardHelpOptions = true,
        description = {"Train a drafter for a frozen base model on its own hidden states and greedy tokens.",
                "ctc: draft module with SmoothL1 + soft cross-entropy + CTC loss (the CTC-drafter);",
                "medusa: K residual heads with cross-entropy at offsets 1..K (the baseline).",
                "Resumes from the newest checkpoint under --out."})
public final class TrainDrafterCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;
    @Option(names = "--type", defaultValue = "ctc", description = "ctc (default) or medusa.") String type;
    @Option(names = "--corpus", description = "Training text (default: data/kjv/train.txt).") Path corpus;
    @Option(names = "--heldout", description = "Held-out text (default: data/kjv/heldout.txt when present).") Path heldout;
    @Option(names = "--out", description = "Drafter folder (default: <model>/drafter-<type>).") Path out;
    @Option(names = "--window", defaultValue = "256", description = "Tokens per training window.") int window;
    @Option(names = "--batch", defaultValue = "16", description = "Windows per optimiser step.") int batch;
    @Option(names = "--micro-batch", defaultValue = "4") int microBatch;
    @Option(names = "--steps", defaultValue = "3000") int steps;
    @Option(names = "--lr", defaultValue = "1e-3") double lr;
    @Option(names = "--warmup", defaultValue = "100") int warmup;
    @Option(names = "--clip-value", defaultValue = "0.5", description = "Gradient clipping by value.") double clip;
    @Option(names = "--ctc-weight", defaultValue = "0.01", description = "Weight of the CTC loss (paper: 0.01).") double ctcWeight;
    @Option(names = "--ctc-frames", defaultValue = "6") int ctcFrames;
    @Option(names = "--ctc-labels", defaultValue = "3") int ctcLabels;
    @Option(names = "--blank", defaultValue = "0", description = "CTC blank token id.") int blank;
    @Option(names = "--noise", defaultValue = "0.1", description = "Uniform noise on input hidden states.") double noise;
    @Option(names = "--heads", defaultValue = "4", description = "Medusa heads.") int heads;
    @Option(names = "--depth", defaultValue = "4", description = "Draft depth lists at decode time.") int depth;
    @Option(names = "--width", defaultValue = "10", description = "Candidates per depth at decode time.") int width;
    @Option(names = "--tree", description = "Default decode tree written to drafter.json (default: auto for ctc, ranked:6 for medusa).")
    String tree;
    @Option(names = "--with-embeddings", description = {"Also write the base model's token embedding into the drafter's"
            + " model.safetensors as embed_tokens.weight (ctc only), for loaders that require every tensor of the draft"
            + " module in its own file; the engine shares the base model's either way."})
    boolean withEmbeddings;
    @Option(names = "--feature-tokens", defaultValue = "1000000", description = "Base-model tokens to collect features for.") int featureTokens;
    @Option(names = "--self-distill", defaultValue = "0",
            description = "Extra training windows continued greedily by the base model itself.") int selfDistill;
    @Option(names = "--log-every", defaultValue = "20") int logEvery;
    @Option(names = "--eval-every", defaultValue = "250") int evalEvery;
    @Option(names = "--checkpoint-every", defaultValue = "250") int checkpointEvery;
    @Option(names = "--seed", defaultValue = "4321") long seed;

    @Override
    public Integer call() throws Exception {
        DrafterTrainer.Options o = new DrafterTrainer.Options();
        o.model = model.modelDir();
        if (!Files.isDirectory(o.model)) {
            throw new CliException("model folder " + o.model + " does not exist");
        }
        o.kind = switch (type) {
            case "ctc" -> DraftObjective.Kind.CTC;
            case "medusa" -> DraftObjective.Kind.MEDUSA;
            default -> throw new CliException("unknown drafter type '" + type + "' (ctc or medusa)");
        };
        o.corpus = corpus != null ? corpus : Defaults.resolve("data/kjv/train.txt");
        if (!Files.isRegularFile(o.corpus)) {
            throw new CliException("corpus " + o.corpus + " not found: pass --corpus FILE (plain text, blank lines"
                    + " between documents; scripts/kjv-corpus.sh builds the bundled one)");
        }
        if (heldout != null && !Files.isRegularFile(heldout)) {
            throw new CliException("held-out text " + heldout + " not found: pass an existing --heldout FILE or leave it out");
        }
        Path defHeld = Defaults.resolve("data/kjv/heldout.txt");
        o.heldout = heldout != null ? heldout : (corpus == null && Files.isRegularFile(defHeld) ? defHeld : null);
        if (withEmbeddings && o.kind != DraftObjective.Kind.CTC) {
            throw new CliException("--with-embeddings is for ctc drafters: Medusa heads read no token embedding");
        }
        o.withEmbeddings = withEmbeddings;
        o.out = out != null ? out : o.model.resolve("drafter-" + type);
        if (window < ctcFrames + 2 || batch < 1 || steps < 1 || lr <= 0) {
            throw new CliException("window must exceed the CTC frames; batch, steps and lr must be positive");
        }
        o.window = window;
        o.batch = batch;
        o.microBatch = microBatch;
        o.steps = steps;
        o.lr = lr;
        o.warmup = warmup;
        o.clipValue = clip;
        o.ctcWeight = ctcWeight;
        o.ctcFrames = ctcFrames;
        o.ctcLabels = ctcLabels;
        o.blank = blank;
        o.noise = noise;
        o.heads = heads;
        o.depth = depth;
        o.width = width;
        o.tree = tree != null ? tree : DrafterConfig.defaultTree(type);
        o.featureTokens = featureTokens;
        o.selfDistillWindows = selfDistill;
        o.logEvery = logEvery;
        o.evalEvery = evalEvery;
        o.checkpointEvery = checkpointEvery;
        o.seed = seed;
        DrafterTrainer.Result r = new DrafterTrainer(o).run();
        System.out.printf(Locale.ROOT, "done in %s: %s%n", Eta.duration(r.seconds()), Double.isNaN(r.heldoutTop1())
                ? "no held-out set (pass --heldout FILE to measure the drafter's top-1 accuracy)"
                : String.format(Locale.ROOT, "held-out top-1 %.4f", r.heldoutTop1()));
        return 0;
    }
}

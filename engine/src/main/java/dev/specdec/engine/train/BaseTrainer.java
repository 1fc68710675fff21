package dev.specdec.engine.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.io.CheckpointReader;
import dev.specdec.engine.model.ModelConfig;
import dev.specdec.engine.progress.ProgressLine;
import dev.specdec.engine.tokenizer.BpeTrainer;
import dev.specdec.engine.tokenizer.TokenizerConfig;
import dev.specdec.engine.tokenizer.TextTokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Pretrains a small LLaMA base model from plain text on DJL autograd: trains (or reuses) a
 * byte-level BPE tokenizer, then runs AdamW with warm-up + cosine decay and global-norm clipping
 * over random BOS-prefixed windows, with held-out evaluation, periodic checkpoints and exact resume.
 * The result is a HuggingFace checkpoint folder.
 */
public final class BaseTrainer {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Settings of one pretraining run (all have defaults sized for the bundled model). */
    public static final class Options {
        public Path corpus;
        public Path heldout;
        public Path out;
        public Path tokenizer;            // reuse this tokenizer.json instead of training one
        public int vocabSize = 4096;
        public int hidden = 256;
        public int intermediate = 704;
        public int layers = 12;
        public int heads = 8;
        public int kvHeads = 4;
        public int maxPositions = 1024;
        public double ropeTheta = 10000;
        public boolean tieEmbeddings = false;
        public int seqLen = 512;
        public int batch = 8;
        /** Sequences per forward/backward pass; gradients accumulate over batch / microBatch passes. */
        public int microBatch = 2;
        public int steps = 4000;
        public double lr = 1e-3;
        public int warmup = 200;
        public double minLrRatio = 0.1;
        public double weightDecay = 0.1;
        public double clip = 1.0;
        public int logEvery = 10;
        public int evalEvery = 200;
        public int evalWindows = 64;
        public int checkpointEvery = 100;
        public int keepCheckpoints = 2;
        public long seed = 1234;
        /** Stop this run after so many steps (as if the process were killed after its last checkpoint). */
        public int stopAfterSteps = Integer.MAX_VALUE;
        /** Test hook: force a garbage collection between forward and backward. */
        public boolean gcBetweenForwardAndBackward;
        public PrintStream log = System.out;
        /** Where the progress line with the time left goes. */
        public PrintStream progress = System.err;
    }

    /** What a run did, for tests and the model card. */
    public record Result(List<Double> losses, double heldoutLoss, long lastStep, long parameters, double seconds) {
    }

    private final Options o;

    public BaseTrainer(Options options) {
        this.o = options;
    }

    public Result run() throws IOException {
        Files.createDirectories(o.out);
        Path tokFile = o.out.resolve("tokenizer.json");
        if (!Files.exists(tokFile)) {
            if (o.tokenizer != null) {
                Files.copy(o.tokenizer, tokFile);
            } else {
                o.log.println("training byte-level BPE tokenizer (vocab " + o.vocabSize + ") on " + o.corpus);
                List<String> lines = new ArrayList<>();
                for (List<String> doc : TokenCorpus.readDocuments(o.corpus)) {
                    lines.add(String.join("\n", doc));
                }
                BpeTrainer.write(BpeTrainer.train(lines, o.vocabSize), tokFile);
            }
        }
        try (TextTokenizer tok = TextTokenizer.load(tokFile)) {
            int bos = requireSpecial(tok, BpeTrainer.BOS);
            int eos = requireSpecial(tok, BpeTrainer.EOS);
            TokenizerConfig.write(o.out, tok, bos, eos, tok.specialTokenId(BpeTrainer.PAD), o.maxPositions);
            int vocab = Math.max(o.vocabSize, maxId(tokFile) + 1);
            ObjectNode configJson = ModelConfig.llamaConfigJson(o.hidden, o.intermediate, o.layers, o.heads,
                    o.kvHeads, vocab, o.maxPositions, o.ropeTheta, o.tieEmbeddings, bos, eos);
            ModelConfig config = ModelConfig.parse(configJson, null);
            TokenCorpus train = TokenCorpus.tokenize(TokenCorpus.readDocuments(o.corpus), tok, bos, eos);
            TokenCorpus held = o.heldout == null ? null
                    : TokenCorpus.tokenize(TokenCorpus.readDocuments(o.heldout), tok, bos, eos);
            o.log.printf(Locale.ROOT, "corpus: %d training tokens%s; model: %s%n", train.size(),
                    held == null ? "" : ", " + held.size() + " held-out tokens", config);
            return train(config, configJson, train, held, tokFile, eos, bos);
        }
    }

    private static int requireSpecial(TextTokenizer tok, String name) {
        int id = tok.specialTokenId(name);
        if (id < 0) {
            throw new IllegalArgumentException("tokenizer has no special token " + name);
        }
        return id;
    }

    private static int maxId(Path tokenizerJson) throws IOException {
        JsonNode root = JSON.readTree(tokenizerJson.toFile());
        int max = 0;
        for (var it = root.get("model").get("vocab").fields(); it.hasNext(); ) {
            max = Math.max(max, it.next().getValue().asInt());
        }
        for (JsonNode a : root.path("added_tokens")) {
            max = Math.max(max, a.get("id").asInt());
        }
        return max;
    }

    private Result train(ModelConfig config, ObjectNode configJson, TokenCorpus corpus, TokenCorpus held,
                         Path tokFile, int eos, int bos) throws IOException {
        TrainingCheckpoints ckpts = new TrainingCheckpoints(o.out, o.keepCheckpoints);
        Path logFile = o.out.resolve("train-log.jsonl");
        List<Double> losses = new ArrayList<>();
        long t0 = System.nanoTime();
        try (NDManager manager = NDManager.newBaseManager();
             TrainGraph graph = new TrainGraph(manager, config, o.seqLen)) {
            TrainableLlama model;
            long startStep = 0;
            JsonNode resume = ckpts.latestState();
            Set<String> noDecay = new HashSet<>();
            if (resume != null) {
                Path dir = Path.of(resume.get("_dir").asText());
                model = TrainableLlama.load(dir, manager);
                startStep = resume.get("step").asLong();
                o.log.println("resuming from " + dir + " at step " + startStep);
            } else {
                model = TrainableLlama.initialize(config, manager, o.seed);
            }
            for (String name : model.parameters().keySet()) {
                if (name.endsWith("norm.weight") || name.contains("embed_tokens")) {
                    noDecay.add(name);
                }
            }
            model.setRequiresGradient(true);
            AdamW opt = new AdamW(manager, model.parameters(), 0.9, 0.95, 1e-8, o.weightDecay, noDecay);
            if (resume != null) {
                try (NDManager tmp = manager.newSubManager()) {
                    opt.load(Path.of(resume.get("_dir").asText()), "optimizer", startStep, tmp);
                }
            }
            o.log.printf(Locale.ROOT, "parameters: %,d; %d steps of %d x %d tokens; lr %.1e%n",
                    model.parameterCount(), o.steps, o.batch, o.seqLen, o.lr);
            LrSchedule schedule = new LrSchedule(o.lr, o.warmup, o.steps, o.minLrRatio);
            TrainingLogLine progress = new TrainingLogLine(o.log, o.steps);
            ProgressLine waiting = new ProgressLine("train-base", "step", startStep, o.steps, o.progress);
            double heldLoss = Double.NaN;
            long windowStart = System.nanoTime();
            long windowTokens = 0;
            double windowLoss = 0;
            int windowSteps = 0;
            for (long step = startStep; step < o.steps; step++) {
                if (step - startStep >= o.stopAfterSteps) {
                    o.log.println("stopping after " + o.stopAfterSteps + " steps of this run (resume continues it)");
                    return new Result(losses, Double.NaN, step, model.parameterCount(), (System.nanoTime() - t0) / 1e9);
                }
                double lr = schedule.at(step);
                double loss = trainStep(manager, graph, model, corpus, step);
                losses.add(loss);
                double gnorm;
                if (Double.isFinite(loss)) {
                    gnorm = opt.clipGradNorm(o.clip);
                    opt.update(lr);
                } else {
                    opt.zeroGrad();
                    gnorm = Double.NaN;
                    o.log.println("step " + (step + 1) + ": non-finite loss, update skipped");
                }
                windowTokens += (long) o.batch * o.seqLen;
                windowLoss += loss;
                windowSteps++;
                long done = step + 1;
                waiting.update(done);
                if (done % o.logEvery == 0 || done == o.steps) {
                    double secs = (System.nanoTime() - windowStart) / 1e9;
                    String extra = Double.isNaN(heldLoss) ? "" : String.format(Locale.ROOT, "held-out %.4f", heldLoss);
                    progress.report(done, windowLoss / windowSteps, lr, gnorm, windowTokens / secs, extra);
                    appendLog(logFile, String.format(Locale.ROOT,
                            "{\"step\":%d,\"loss\":%.5f,\"lr\":%.3e,\"gnorm\":%.4f,\"tokens_per_s\":%.1f}",
                            done, windowLoss / windowSteps, lr, gnorm, windowTokens / secs));
                    windowStart = System.nanoTime();
                    windowTokens = 0;
                    windowLoss = 0;
                    windowSteps = 0;
                }
                if (held != null && (done % o.evalEvery == 0 || done == o.steps)) {
                    heldLoss = evaluate(manager, graph, model, held);
                    o.log.printf(Locale.ROOT, "step %d held-out loss %.4f perplexity %.2f%n", done, heldLoss, Math.exp(heldLoss));
                    appendLog(logFile, String.format(Locale.ROOT,
                            "{\"step\":%d,\"heldout_loss\":%.5f,\"heldout_perplexity\":%.3f}", done, heldLoss, Math.exp(heldLoss)));
                }
                if (done % o.checkpointEvery == 0 || done == o.steps) {
                    Path dir = ckpts.directoryFor(done);
                    model.save(dir, configJson);
                    opt.save(dir.resolve("optimizer.safetensors"));
                    ObjectNode state = JSON.createObjectNode();
                    state.put("step", done);
                    state.put("seed", o.seed);
                    state.put("loss", loss);
                    if (!Double.isNaN(heldLoss)) {
                        state.put("heldout_loss", heldLoss);
                    }
                    ckpts.commit(done, state);
                }
            }
            exportModel(model, configJson, tokFile, eos, bos);
            if (held != null && Double.isNaN(heldLoss)) {
                heldLoss = evaluate(manager, graph, model, held);
            }
            return new Result(losses, heldLoss, o.steps, model.parameterCount(), (System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * Forward + backward of one batch in micro-batches (gradients accumulate in the parameters);
     * returns the batch's mean loss.
     */
    private double trainStep(NDManager manager, TrainGraph graph, TrainableLlama model, TokenCorpus corpus, long step) {
        int[][] windows = corpus.sampleWindows(o.seed, step, o.batch, o.seqLen);
        int micro = Math.max(1, Math.min(o.microBatch, o.batch));
        int passes = (o.batch + micro - 1) / micro;
        double total = 0;
        for (int p = 0; p < passes; p++) {
            int from = p * micro;
            int n = Math.min(micro, o.batch - from);
            int[][] part = java.util.Arrays.copyOfRange(windows, from, from + n);
            try (NDManager stepManager = manager.newSubManager(); NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray[] io = inputsAndTargets(stepManager, part, o.seqLen);
                NDArray weights = stepManager.ones(new Shape((long) n * o.seqLen));
                // Each pass's mean loss is weighted by its share of the batch (a tensor, never a Number).
                NDArray share = stepManager.full(new Shape(), (float) n / o.batch);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray hidden = model.hidden(graph, io[0]);
                    NDArray logits = model.logits(hidden).reshape(-1, model.config.vocabSize);
                    NDArray loss = graph.crossEntropy(logits, io[1], weights);
                    NDArray scaled = loss.mul(share);
                    if (o.gcBetweenForwardAndBackward) {
                        System.gc();
                        System.runFinalization();
                    }
                    gc.backward(scaled);
                    total += loss.getFloat() * n;
                }
            }
        }
        return total / o.batch;
    }

    /** Splits windows of length T+1 into inputs [B, T] and flattened targets [B*T]. */
    static NDArray[] inputsAndTargets(NDManager m, int[][] windows, int t) {
        int b = windows.length;
        int[] in = new int[b * t];
        int[] tg = new int[b * t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(windows[i], 0, in, i * t, t);
            System.arraycopy(windows[i], 1, tg, i * t, t);
        }
        NDArray inputs = m.create(in, new Shape(b, t)).toType(ai.djl.ndarray.types.DataType.INT64, false);
        NDArray targets = m.create(tg, new Shape((long) b * t)).toType(ai.djl.ndarray.types.DataType.INT64, false);
        return new NDArray[] {inputs, targets};
    }

    /** Mean next-token loss over the held-out documents' first windows. */
    private double evaluate(NDManager manager, TrainGraph graph, TrainableLlama model, TokenCorpus held) {
        double sum = 0;
        long count = 0;
        for (int[] w : held.documentWindows(o.seqLen, o.evalWindows)) {
            int t = w.length - 1;
            if (t < 1) {
                continue;
            }
            try (NDManager m = manager.newSubManager(); NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray[] io = inputsAndTargets(m, new int[][] {w}, t);
                NDArray logits = model.logits(model.hidden(graph, io[0])).reshape(-1, model.config.vocabSize);
                NDArray loss = graph.crossEntropy(logits, io[1], m.ones(new Shape(t)));
                sum += loss.getFloat() * t;
                count += t;
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }

    private void exportModel(TrainableLlama model, ObjectNode configJson, Path tokFile, int eos, int bos) throws IOException {
        model.save(o.out, configJson);
        ObjectNode gen = JSON.createObjectNode();
        gen.put("bos_token_id", bos);
        gen.put("eos_token_id", eos);
        gen.put("pad_token_id", 0);
        Files.writeString(o.out.resolve("generation_config.json"), JSON.writeValueAsString(gen));
        o.log.println("saved model to " + o.out);
    }

    private static void appendLog(Path file, String line) throws IOException {
        Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Parameter tensors of a saved checkpoint, for bit-exact comparisons in tests. */
    public static Map<String, float[]> readParameters(Path dir) throws IOException {
        Map<String, float[]> out = new java.util.TreeMap<>();
        try (NDManager m = NDManager.newBaseManager(); CheckpointReader r = CheckpointReader.open(dir)) {
            for (String name : r.names()) {
                out.put(name, r.read(m, name, r.shapeOf(name)).toFloatArray());
            }
        }
        return out;
    }
}

package dev.specdec.engine.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.io.CheckpointReader;
import dev.specdec.engine.io.SafetensorsWriter;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.ModelConfig;
import dev.specdec.engine.model.ModelFingerprint;
import dev.specdec.engine.progress.ProgressLine;
import dev.specdec.engine.request.Completion;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.serve.Generator;
import dev.specdec.engine.speculative.DrafterConfig;
import dev.specdec.engine.speculative.DrafterLayout;
import dev.specdec.engine.tokenizer.TextTokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Trains a drafter (CTC draft module or Medusa heads) for a frozen base model: collects the base
 * model's features over the corpus once, then optimises {@link DraftObjective} with AdamW
 * (warm-up, cosine decay, gradient clipping by value as the CTC-drafter reference), with held-out
 * evaluation, checkpoints and exact resume. Writes a drafter folder next to the model.
 */
public final class DrafterTrainer {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Settings of one drafter training run. */
    public static final class Options {
        public Path model;
        public Path corpus;
        public Path heldout;
        public Path out;
        public DraftObjective.Kind kind = DraftObjective.Kind.CTC;
        public int window = 256;
        public int batch = 16;
        public int microBatch = 4;
        public int steps = 3000;
        public double lr = 1e-3;
        public int warmup = 100;
        public double clipValue = 0.5;
        public double weightDecay = 0.0;
        public double ctcWeight = 0.01;
        public int ctcFrames = 6;
        public int ctcLabels = 3;
        public int blank = 0;
        public double noise = 0.1;
        public int heads = 4;
        public int depth = 4;
        public int width = 10;
        public String tree = "ranked:16";
        public int featureTokens = 1_000_000;
        /** Also store the base model's embedding in the drafter's safetensors (CTC only), as {@code embed_tokens.weight}. */
        public boolean withEmbeddings;
        /** Extra windows whose continuations the base model writes itself (greedy), as at decode time. */
        public int selfDistillWindows = 0;
        public int heldoutWindows = 32;
        public int logEvery = 20;
        public int evalEvery = 250;
        public int checkpointEvery = 250;
        public long seed = 4321;
        public PrintStream log = System.out;
        /** Where the progress line with the time left goes. */
        public PrintStream progress = System.err;
    }

    /** Held-out metrics at the end of a run. */
    public record Result(double heldoutTop1, double heldoutCe, long steps, double seconds) {
    }

    private final Options o;

    public DrafterTrainer(Options options) {
        this.o = options;
    }

    public Result run() throws IOException {
        Files.createDirectories(o.out);
        ModelConfig base = ModelConfig.load(o.model);
        // Features are reused only for the same base model, however its files are laid out.
        String modelId = ModelFingerprint.of(o.model);
        DraftFeatures train;
        DraftFeatures held;
        try (LlamaModel model = LlamaModel.load(o.model, null); TextTokenizer tok = TextTokenizer.load(o.model)) {
            tok.requireFits(model.config.vocabSize, o.model);
            train = features(model, tok, o.corpus, o.out.resolve("features/train"), modelId + "#sd" + o.selfDistillWindows,
                    o.featureTokens, o.selfDistillWindows);
            held = o.heldout == null ? null
                    : features(model, tok, o.heldout, o.out.resolve("features/heldout"), modelId,
                    o.heldoutWindows * o.window, 0);
        }
        long t0 = System.nanoTime();
        TrainingCheckpoints ckpts = new TrainingCheckpoints(o.out, 2);
        Path logFile = o.out.resolve("train-log.jsonl");
        try (NDManager manager = NDManager.newBaseManager(); train; CheckpointReader r = CheckpointReader.open(o.model)) {
            String p = r.has("model.embed_tokens.weight") ? "model." : "";
            NDArray embed = r.read(manager, p + "embed_tokens.weight", base.vocabSize, base.hiddenSize);
            DrafterLayout.BaseTensors shared = DrafterLayout.BaseTensors.of(r, base);
            NDArray head = shared.lmHead().equals(shared.embedding()) ? embed
                    : r.read(manager, shared.lmHead(), base.vocabSize, base.hiddenSize);
            DraftObjective obj = new DraftObjective(o.kind, base, manager, embed, head, o.window, o.heads, o.ctcWeight,
                    o.ctcFrames, o.ctcLabels, o.blank, o.noise, o.seed);
            long start = 0;
            JsonNode resume = ckpts.latestState();
            if (resume != null) {
                Path dir = Path.of(resume.get("_dir").asText());
                try (NDManager tmp = manager.newSubManager(); CheckpointReader cr = CheckpointReader.open(dir)) {
                    Map<String, NDArray> saved = new HashMap<>();
                    for (Map.Entry<String, NDArray> e : obj.parameters().entrySet()) {
                        saved.put(e.getKey(), cr.read(tmp, e.getKey(), e.getValue().getShape().getShape()));
                    }
                    obj.loadParameters(saved);
                }
                start = resume.get("step").asLong();
                o.log.println("resuming drafter training from " + dir + " at step " + start);
            }
            obj.parameters().values().forEach(a -> a.setRequiresGradient(true));
            AdamW opt = new AdamW(manager, obj.parameters(), 0.9, 0.95, 1e-8, o.weightDecay, Set.of());
            if (resume != null) {
                try (NDManager tmp = manager.newSubManager()) {
                    opt.load(Path.of(resume.get("_dir").asText()), "optimizer", start, tmp);
                }
            }
            long count = obj.parameters().values().stream().mapToLong(a -> a.getShape().size()).sum();
            o.log.printf(Locale.ROOT, "%s drafter: %,d parameters; %d training windows of %d tokens; %d steps of %d windows%n",
                    o.kind, count, train.windows(), train.length(), o.steps, o.batch);
            LrSchedule schedule = new LrSchedule(o.lr, o.warmup, o.steps, 0.0);
            TrainingLogLine progress = new TrainingLogLine(o.log, o.steps);
            ProgressLine waiting = new ProgressLine("train-drafter", "step", start, o.steps, o.progress);
            double[] heldMetrics = {Double.NaN, Double.NaN};
            double sumLoss = 0;
            double sumTop1 = 0;
            int n = 0;
            long windowStart = System.nanoTime();
            for (long step = start; step < o.steps; step++) {
                double lr = schedule.at(step);
                double[] m = trainStep(manager, obj, train, step);
                opt.clipGradValue(o.clipValue);
                opt.update(lr);
                sumLoss += m[0];
                sumTop1 += m[1];
                n++;
                long done = step + 1;
                waiting.update(done);
                if (done % o.logEvery == 0 || done == o.steps) {
                    double secs = (System.nanoTime() - windowStart) / 1e9;
                    double tps = n * (double) o.batch * o.window / secs;
                    progress.report(done, sumLoss / n, lr, Double.NaN, tps, String.format(Locale.ROOT, "top1 %.3f%s", sumTop1 / n,
                            Double.isNaN(heldMetrics[0]) ? "" : String.format(Locale.ROOT, "  held-out top1 %.3f", heldMetrics[0])));
                    append(logFile, String.format(Locale.ROOT, "{\"step\":%d,\"loss\":%.5f,\"top1\":%.4f,\"lr\":%.3e}",
                            done, sumLoss / n, sumTop1 / n, lr));
                    sumLoss = 0;
                    sumTop1 = 0;
                    n = 0;
                    windowStart = System.nanoTime();
                }
                if (held != null && (done % o.evalEvery == 0 || done == o.steps)) {
                    heldMetrics = evaluate(manager, obj, held);
                    o.log.printf(Locale.ROOT, "step %d held-out: top-1 %.4f, CE %.4f%n", done, heldMetrics[0], heldMetrics[1]);
                    append(logFile, String.format(Locale.ROOT, "{\"step\":%d,\"heldout_top1\":%.5f,\"heldout_ce\":%.5f}",
                            done, heldMetrics[0], heldMetrics[1]));
                }
                if (done % o.checkpointEvery == 0 || done == o.steps) {
                    Path dir = ckpts.directoryFor(done);
                    Files.createDirectories(dir);
                    SafetensorsWriter.write(dir.resolve("model.safetensors"), obj.parameters(), Map.of());
                    opt.save(dir.resolve("optimizer.safetensors"));
                    ObjectNode state = JSON.createObjectNode();
                    state.put("step", done);
                    ckpts.commit(done, state);
                }
            }
            if (held != null && Double.isNaN(heldMetrics[0])) {
                heldMetrics = evaluate(manager, obj, held);
            }
            export(obj, base, heldMetrics, modelId, shared, embed);
            obj.close();
            return new Result(heldMetrics[0], heldMetrics[1], o.steps, (System.nanoTime() - t0) / 1e9);
        } finally {
            if (held != null) {
                held.close();
            }
        }
    }

    /** Features of a corpus file (collected once; reused when the same model produced them). */
    private DraftFeatures features(LlamaModel model, TextTokenizer tok, Path text, Path dir, String modelId,
                                   int maxTokens, int selfDistill) throws IOException {
        DraftFeatures f = DraftFeatures.open(dir, modelId);
        if (f != null) {
            return f;
        }
        int bos = tok.specialTokenId("<s>") >= 0 ? tok.specialTokenId("<s>") : model.config.bosTokenId;
        int eos = model.config.eosTokenIds.isEmpty() ? 2 : model.config.eosTokenIds.get(0);
        TokenCorpus corpus = TokenCorpus.tokenize(TokenCorpus.readDocuments(text), tok, bos, eos);
        // Contiguous windows of the token stream, each starting with BOS as prompts do.
        int body = o.window - 1;
        int count = Math.max(1, Math.min(corpus.size() / body, maxTokens / o.window));
        List<int[]> windows = new ArrayList<>();
        int stride = Math.max(body, corpus.size() / count);
        for (int i = 0; i < count && (long) i * stride + body <= corpus.size(); i++) {
            int[] w = new int[o.window];
            w[0] = bos;
            System.arraycopy(corpus.tokens(), i * stride, w, 1, body);
            windows.add(w);
        }
        if (windows.isEmpty()) {
            throw new IllegalArgumentException(text + " holds " + corpus.size() + " tokens, fewer than one training window of "
                    + o.window + ": give more text or a smaller --window");
        }
        if (selfDistill > 0) {
            windows.addAll(selfDistilled(model, corpus, bos, selfDistill));
        }
        o.log.printf(Locale.ROOT, "collecting base features: %d windows of %d tokens from %s%n", windows.size(), o.window, text);
        return DraftFeatures.collect(model, windows, o.window, dir, modelId, 4, o.log,
                new ProgressLine("train-drafter: base features", "window", 0, windows.size(), o.progress));
    }

    /**
     * Windows written by the base model itself: BOS + the first 16 tokens of a random corpus line, then
     * the base model's greedy continuation. These match what the drafter sees while decoding.
     */
    private List<int[]> selfDistilled(LlamaModel model, TokenCorpus corpus, int bos, int count) throws IOException {
        int promptLen = 16;
        SplittableRandom rnd = new SplittableRandom(o.seed + 17);
        List<DecodeRequest> reqs = new ArrayList<>();
        SamplingParams p = SamplingParams.greedy(o.window - promptLen - 1).withIgnoreEos(true);
        for (int i = 0; i < count; i++) {
            int start = rnd.nextInt(Math.max(1, corpus.size() - promptLen));
            int[] prompt = new int[promptLen + 1];
            prompt[0] = bos;
            System.arraycopy(corpus.tokens(), start, prompt, 1, promptLen);
            reqs.add(new DecodeRequest("sd" + i, prompt, p));
        }
        o.log.printf(Locale.ROOT, "self-distillation: the base model writes %d windows%n", count);
        List<int[]> out = new ArrayList<>();
        try (EngineSession session = EngineSession.around(model, 8);
             Decoder plain = session.decoder(DecodingMethod.NONE)) {
            List<Completion> rs = Generator.run(session, plain, reqs);
            for (int i = 0; i < rs.size(); i++) {
                int[] w = java.util.Arrays.copyOf(reqs.get(i).promptIds(), o.window);
                int[] gen = rs.get(i).tokenIds();
                System.arraycopy(gen, 0, w, promptLen + 1, Math.min(gen.length, o.window - promptLen - 1));
                if (gen.length == o.window - promptLen - 1) {
                    out.add(w);
                }
            }
        }
        return out;
    }

    /** One optimiser step's forward/backward over micro-batches: {mean loss, mean top-1}. */
    private double[] trainStep(NDManager manager, DraftObjective obj, DraftFeatures data, long step) throws IOException {
        SplittableRandom rnd = new SplittableRandom(o.seed * 0x9E3779B97F4A7C15L + step);
        int[] pick = new int[o.batch];
        for (int i = 0; i < pick.length; i++) {
            pick[i] = rnd.nextInt(data.windows());
        }
        double loss = 0;
        double top1 = 0;
        int micro = Math.max(1, Math.min(o.microBatch, o.batch));
        for (int from = 0; from < o.batch; from += micro) {
            int n = Math.min(micro, o.batch - from);
            try (NDManager m = manager.newSubManager(); NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                Batch b = load(m, data, pick, from, n);
                NDArray share = m.full(new ai.djl.ndarray.types.Shape(), (float) n / o.batch, ai.djl.ndarray.types.DataType.FLOAT32);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    DraftObjective.Losses l = obj.losses(m, b.tokens, b.labels, b.labelHost, b.hidden, o.seed, step * 64 + from, true);
                    gc.backward(l.total().mul(share));
                    loss += l.total().getFloat() * n / o.batch;
                    top1 += l.top1() * n / o.batch;
                }
            }
        }
        return new double[] {loss, top1};
    }

    private record Batch(NDArray tokens, NDArray labels, int[][] labelHost, NDArray hidden) {
    }

    private static Batch load(NDManager m, DraftFeatures data, int[] pick, int from, int n) throws IOException {
        NDList tok = new NDList();
        NDList lab = new NDList();
        NDList hid = new NDList();
        int[][] host = new int[n][];
        for (int i = 0; i < n; i++) {
            DraftFeatures.Window w = data.read(m, pick[from + i]);
            tok.add(w.tokens());
            lab.add(w.labels());
            hid.add(w.hidden());
            host[i] = w.labelIds();
        }
        return new Batch(ai.djl.ndarray.NDArrays.stack(tok), ai.djl.ndarray.NDArrays.stack(lab), host,
                ai.djl.ndarray.NDArrays.stack(hid));
    }

    /** {top-1 accuracy of the first draft depth, cross-entropy} on held-out windows. */
    private double[] evaluate(NDManager manager, DraftObjective obj, DraftFeatures held) throws IOException {
        double top1 = 0;
        double ce = 0;
        int n = held.windows();
        for (int i = 0; i < n; i++) {
            try (NDManager m = manager.newSubManager(); NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                Batch b = load(m, held, new int[] {i}, 0, 1);
                DraftObjective.Losses l = obj.losses(m, b.tokens, b.labels, b.labelHost, b.hidden, 0, 0, false);
                top1 += l.top1();
                ce += l.softCe();
            }
        }
        return new double[] {top1 / n, ce / n};
    }

    private void export(DraftObjective obj, ModelConfig base, double[] held, String fingerprint,
                        DrafterLayout.BaseTensors shared, NDArray embed) throws IOException {
        Map<String, NDArray> tensors = new LinkedHashMap<>(obj.parameters());
        if (o.withEmbeddings) {
            // For loaders that expect every tensor of the draft module in its own file (EAGLE-style).
            tensors.put("embed_tokens.weight", embed);
        }
        SafetensorsWriter.write(o.out.resolve("model.safetensors"), tensors, Map.of());
        ObjectNode extra = JSON.createObjectNode();
        extra.put("base_model", o.model.getFileName().toString());
        extra.put("steps", o.steps);
        extra.put("window", o.window);
        extra.put("batch", o.batch);
        extra.put("lr", o.lr);
        if (obj.kind == DraftObjective.Kind.CTC) {
            extra.put("ctc_weight", o.ctcWeight);
            extra.put("ctc_frames", o.ctcFrames);
            extra.put("ctc_labels", o.ctcLabels);
            extra.put("noise", o.noise);
            ObjectNode cfg = ModelConfig.llamaConfigJson(base.hiddenSize, base.intermediateSize, 1, base.numHeads,
                    base.numKvHeads, base.vocabSize, base.maxPositions, base.rope.theta, false,
                    base.bosTokenId, base.eosTokenIds.isEmpty() ? 2 : base.eosTokenIds.get(0));
            cfg.put("rms_norm_eps", base.rmsNormEps);
            cfg.put("head_dim", base.headDim);
            Files.writeString(o.out.resolve("config.json"), JSON.writeValueAsString(cfg));
        } else {
            extra.put("heads", o.heads);
        }
        if (!Double.isNaN(held[0])) {
            extra.put("heldout_top1", held[0]);
        }
        String type = obj.kind == DraftObjective.Kind.CTC ? "ctc" : "medusa";
        extra.set("layout", DrafterLayout.of(type, shared, o.withEmbeddings));
        int depth = obj.kind == DraftObjective.Kind.CTC ? o.depth : o.heads;
        new DrafterConfig(type, depth, o.width, o.tree, o.blank, fingerprint).save(o.out, extra);
        o.log.println("saved " + type + " drafter to " + o.out);
    }

    private static void append(Path file, String line) throws IOException {
        Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}

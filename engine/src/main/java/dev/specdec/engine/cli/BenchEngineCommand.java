package dev.specdec.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.ForwardMode;
import dev.specdec.engine.speculative.CostModel;
import dev.specdec.engine.TorchThreads;
import dev.specdec.engine.model.LlamaModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code specdec bench-engine}: the engine against the hardware. Measures the memory read bandwidth
 * and from it the floor of plain decoding (the weights read per token at that bandwidth), then for
 * each forward path in one run: decode throughput per batch size, native calls per token, where one
 * step's time goes (native calls, time in native code and in Java, for a plain step, the verify of a
 * chain of 11 and the CTC draft chain), and the verify-cost curve (a forward of T new tokens relative
 * to T = 1), which decides how large a draft pays off on this machine.
 */
@Command(name = "bench-engine", mixinStandardHelpOptions = true,
        description = "Memory-bandwidth floor, decode speed per forward path, per-step breakdown and the verify-cost curve.")
public final class BenchEngineCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;
    @Option(names = "--forwards", split = ",", defaultValue = "eager,compiled",
            description = "Forward paths to measure side by side (default ${DEFAULT-VALUE}).")
    List<String> forwards;
    @Option(names = "--prompt-tokens", defaultValue = "128") int promptTokens;
    @Option(names = "--decode-tokens", defaultValue = "128") int decodeTokens;
    @Option(names = "--batch-sizes", split = ",", defaultValue = "1,4,8") int[] batchSizes;
    @Option(names = "--cache-lengths", split = ",", defaultValue = "128,512") int[] cacheLengths;
    @Option(names = "--tree-sizes", split = ",", defaultValue = "1,2,4,8,16,32,64") int[] treeSizes;
    @Option(names = "--repeats", defaultValue = "20", description = "Timed repetitions per point (median).") int repeats;
    @Option(names = "--skip-bandwidth", description = "Do not measure memory bandwidth (no floor).") boolean skipBandwidth;
    @Option(names = "--profile", description = "Write a PyTorch profiler trace (Chrome format) of a few steps of each path"
            + " to FILE (FILE-eager.json, FILE-compiled.json).")
    Path profile;
    @Option(names = "--json", defaultValue = "bench-results/engine.json") Path json;

    @Override
    public Integer call() throws Exception {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        int threads = model.intraOpThreads();
        int cores = Runtime.getRuntime().availableProcessors();
        root.put("model", model.modelDir().toString());
        root.put("threads", threads);
        root.put("cpus", cores);
        double floorBandwidth = skipBandwidth ? 0 : bandwidth(root, threads, cores);
        TorchThreads.use(threads);
        int maxBatch = Arrays.stream(batchSizes).max().orElse(1);
        ObjectNode paths = root.putObject("forwards");
        for (String f : forwards) {
            ForwardMode mode = ForwardMode.parse(f);
            try (EngineSession session = EngineSession.open(model.modelDir(), model.device(), maxBatch, mode)) {
                LlamaModel m = session.model();
                if (root.get("config") == null) {
                    root.put("config", m.config.toString());
                    root.put("weight_bytes_per_token", m.weightBytesPerToken());
                    System.out.println("model: " + m.config + ", " + m.weightBytesPerToken() / 1e6 + " MB of weights read per token");
                }
                System.out.println();
                System.out.println("== " + mode.wireName() + " forward, " + threads + " intra-op thread(s)");
                ObjectNode p = paths.putObject(mode.wireName());
                measurePath(session, p, floorBandwidth);
                if (profile != null) {
                    Path file = profile.resolveSibling(profile.getFileName().toString().replaceAll("\\.json$", "")
                            + "-" + mode.wireName() + ".json");
                    new StepProbe(session, repeats).profile(file);
                    System.out.println("profiler trace: " + file);
                }
            }
        }
        JsonSummary.topLevel(root, forwards.get(forwards.size() - 1));
        Files.createDirectories(json.toAbsolutePath().getParent());
        om.writeValue(json.toFile(), root);
        System.out.println("wrote " + json);
        return 0;
    }

    /** Bandwidth on one thread and on every core; returns the one-thread figure the floor uses. */
    private double bandwidth(ObjectNode root, int threads, int cores) throws Exception {
        System.out.println("memory read bandwidth over 1 GiB (best of 5; Java loop / PyTorch sum):");
        ArrayNode rows = root.putArray("bandwidth");
        double one = 0;
        for (int t : threads == cores ? new int[] {threads} : new int[] {threads, cores}) {
            MemoryBandwidth.Result r = MemoryBandwidth.measure(t);
            System.out.printf(Locale.ROOT, "  %d thread(s): %.1f / %.1f GB/s%n", t, r.javaGbPerS(), r.nativeGbPerS());
            ObjectNode n = rows.addObject();
            n.put("threads", t);
            n.put("java_gb_per_s", r.javaGbPerS());
            n.put("native_gb_per_s", r.nativeGbPerS());
            if (t == threads) {
                one = r.best();
            }
        }
        root.put("floor_bandwidth_gb_per_s", one);
        return one;
    }

    private void measurePath(EngineSession session, ObjectNode p, double bandwidth) {
        StepProbe probe = new StepProbe(session, repeats);
        probe.warmUp(batchSizes);
        double prefill = probe.prefillTokensPerSecond(promptTokens);
        p.put("prefill_tokens_per_s", prefill);
        System.out.printf(Locale.ROOT, "prefill (%d-token prompt): %.0f tokens/s%n", promptTokens, prefill);
        ArrayNode decode = p.putArray("decode");
        System.out.println("batch  decode tok/s  ms/step  native calls/token");
        for (int b : batchSizes) {
            StepProbe.Decode r = probe.decode(b, decodeTokens);
            ObjectNode d = decode.addObject();
            d.put("batch", b);
            d.put("tokens_per_s", r.tokensPerSecond());
            d.put("ms_per_step", r.msPerStep());
            d.put("native_calls_per_token", r.callsPerToken());
            System.out.printf(Locale.ROOT, "%5d  %12.1f  %7.2f  %18.1f%n", b, r.tokensPerSecond(), r.msPerStep(),
                    r.callsPerToken());
        }
        double plain = decode.get(0).get("tokens_per_s").asDouble();
        p.put("plain_tokens_per_s", plain);
        p.put("native_calls_per_token", decode.get(0).get("native_calls_per_token").asDouble());
        if (bandwidth > 0) {
            double floor = bandwidth * 1e9 / session.model().weightBytesPerToken();
            p.put("floor_tokens_per_s", floor);
            p.put("floor_ratio", plain / floor);
            System.out.printf(Locale.ROOT, "floor at %.1f GB/s: %.0f tokens/s; plain decoding at batch %d reaches %.0f%% of it%n",
                    bandwidth, floor, batchSizes[0], 100 * plain / floor);
        }
        ArrayNode steps = p.putArray("breakdown");
        System.out.println("step                          ms/call  native calls  native ms  java ms");
        for (StepProbe.Breakdown s : probe.breakdown()) {
            ObjectNode n = steps.addObject();
            n.put("step", s.name());
            n.put("ms", s.ms());
            n.put("native_calls", s.calls());
            n.put("native_ms", s.nativeMs());
            n.put("java_ms", s.ms() - s.nativeMs());
            System.out.printf(Locale.ROOT, "%-28s  %7.3f  %12.0f  %9.3f  %7.3f%n", s.name(), s.ms(), s.calls(),
                    s.nativeMs(), s.ms() - s.nativeMs());
        }
        verifyCurve(probe, p);
        costModel(session, p);
    }

    /**
     * The adaptive tree's verify cost table as the decoder measures it at warm-up (anchor batch sizes,
     * interpolated between): what its per-step depth choice rests on.
     */
    private void costModel(EngineSession session, ObjectNode p) {
        int maxBatch = Arrays.stream(batchSizes).max().orElse(1);
        CostModel costs = new CostModel(session.model(), maxBatch);
        costs.measureAnchors();
        ObjectNode table = p.putObject("cost_model_verify_ms");
        System.out.println("cost model (the adaptive tree's table): verify ms by batch and new tokens per sequence");
        StringBuilder header = new StringBuilder("batch \\ T");
        int[] ts = {1, 2, 3, 4, 6, 8, 12, 16};
        for (int t : ts) {
            header.append(String.format(Locale.ROOT, "%8d", t));
        }
        System.out.println(header);
        for (int b : batchSizes) {
            ObjectNode row = table.putObject(Integer.toString(b));
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%10d", b));
            for (int t : ts) {
                double ms = costs.verifyMs(b, t);
                row.put(Integer.toString(t), ms);
                line.append(String.format(Locale.ROOT, "%8.2f", ms));
            }
            System.out.println(line);
        }
        System.out.println("(draft costs are learnt from the drafter's own calls while decoding, as shares of a one-token forward)");
    }

    private void verifyCurve(StepProbe probe, ObjectNode p) {
        ArrayNode curve = p.putArray("verify_cost");
        StringBuilder header = new StringBuilder("cache \\ T");
        for (int t : treeSizes) {
            header.append(String.format(Locale.ROOT, "%8d", t));
        }
        System.out.println("verify cost relative to T=1 (ms at T=1 in brackets)");
        System.out.println(header);
        for (int len : cacheLengths) {
            double[] ms = probe.verifyCurve(len, treeSizes);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%9d", len));
            ObjectNode c = curve.addObject();
            c.put("cache_length", len);
            c.put("ms_at_1", ms[0]);
            ObjectNode rel = c.putObject("relative");
            for (int i = 0; i < treeSizes.length; i++) {
                rel.put(Integer.toString(treeSizes[i]), ms[i] / ms[0]);
                line.append(String.format(Locale.ROOT, "%8.2f", ms[i] / ms[0]));
            }
            System.out.println(line + String.format(Locale.ROOT, "   [%.2f ms]", ms[0]));
        }
    }

    /** The JSON keys other tools read at the top level, taken from the default (last measured) path. */
    private static final class JsonSummary {
        static void topLevel(ObjectNode root, String path) {
            ObjectNode p = (ObjectNode) root.path("forwards").path(ForwardMode.parse(path).wireName());
            for (String key : List.of("plain_tokens_per_s", "floor_tokens_per_s", "floor_ratio", "prefill_tokens_per_s",
                    "native_calls_per_token")) {
                if (p.has(key)) {
                    root.set(key, p.get(key));
                }
            }
            root.put("forward", path);
            if (p.has("decode")) {
                root.set("decode", p.get("decode"));
                root.set("verify_cost", p.get("verify_cost"));
            }
        }
    }
}

package dev.specdec.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.DecoderOptions;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.progress.ProgressLine;
import dev.specdec.engine.request.Completion;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.PromptDataset;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.serve.Generator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code specdec bench}: every decoding method on the same prompts in one process, interleaved chunk
 * by chunk (a chunk is one batch of prompts) so that machine noise hits all methods alike, for every
 * cell of batch sizes x temperatures. Reports beta (tokens per decoding step, pooled), gamma (speedup
 * in time per token over plain decoding in the same run), tokens/s, the draft share of time and
 * whether each output equals plain decoding token for token; per prompt category too.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Compare decoding methods (beta, gamma, tokens/s, draft share, identical-to-plain) on a prompt set,"
                + " for every batch size and temperature given.")
public final class BenchCommand implements java.util.concurrent.Callable<Integer> {
    @Mixin
    ModelOptions model;
    @Option(names = "--prompts", description = "Prompt file (JSONL: {id,prompt,category}, MT-bench or GSM8K).")
    Path prompts;
    @Option(names = "--drafters", split = ",", defaultValue = "none,ctc,ctc-faithful,medusa,ngram",
            description = "Methods, each optionally with a tree: ctc@chain:10, ctc@ranked:16 (default ${DEFAULT-VALUE}).")
    List<String> drafters;
    @Option(names = "--tree", description = "Tree for every speculative method without its own @tree.")
    String tree;
    @Option(names = "--limit", description = "Use only the first N prompts.") Integer limit;
    @Option(names = "--batch-size", split = ",", defaultValue = "1", description = "Batch sizes, e.g. 1,4,8,16.")
    int[] batchSizes;
    @Option(names = "--warmup", defaultValue = "2", description = "Untimed prompts per method and cell first.") int warmup;
    @Mixin
    SamplingOptions sampling;
    @Option(names = "--json", defaultValue = "bench-results/bench.json") Path json;
    @Option(names = "--png", description = "Chart file (default: beside --json).") Path png;

    private record Cell(int batch, double temperature, Map<String, BenchStats> stats) {
        String label() {
            return String.format(Locale.ROOT, "b%d t%s", batch, temperature == 0 ? "0" : String.valueOf(temperature));
        }
    }

    @Override
    public Integer call() throws Exception {
        Path file = prompts != null ? prompts : Defaults.resolve("data/kjv/heldout-prompts.jsonl");
        List<PromptDataset.Prompt> ps = PromptDataset.read(file);
        if (limit != null) {
            ps = ps.subList(0, Math.min(limit, ps.size()));
        }
        if (!drafters.contains("none")) {
            throw new CliException("--drafters must include none: gamma and identical_to_plain compare against it");
        }
        int maxBatch = Arrays.stream(batchSizes).max().orElse(1);
        try (EngineSession session = model.open(maxBatch)) {
            Map<String, Decoder> decoders = new LinkedHashMap<>();
            try {
                for (String spec : drafters) {
                    String name = spec.contains("@") ? spec.substring(0, spec.indexOf('@')) : spec;
                    String t = spec.contains("@") ? spec.substring(spec.indexOf('@') + 1) : tree;
                    decoders.put(spec, session.decoder(DecodingMethod.parse(name), new DecoderOptions(null, t, null)));
                }
                List<Cell> cells = new ArrayList<>();
                ProgressLine progress = new ProgressLine("bench", "prompt", 0,
                        (long) sampling.temperatures().length * batchSizes.length * ps.size(), System.err);
                for (double temperature : sampling.temperatures()) {
                    for (int b : batchSizes) {
                        cells.add(runCell(session, decoders, ps, file, b, sampling.toParams(128, temperature), progress));
                    }
                }
                report(cells, file, session);
                return 0;
            } finally {
                decoders.values().forEach(Decoder::close);
            }
        }
    }

    private Cell runCell(EngineSession session, Map<String, Decoder> decoders, List<PromptDataset.Prompt> ps, Path file,
                         int batch, SamplingParams params, ProgressLine progress) throws Exception {
        List<DecodeRequest> reqs = new ArrayList<>();
        for (PromptDataset.Prompt p : ps) {
            reqs.add(new DecodeRequest(p.id(), session.tokenizer().encode(p.text()), params));
        }
        System.out.printf(Locale.ROOT, "%nmodel %s, %d prompts from %s, max %d new tokens, batch %d, temperature %s%n",
                session.model().config, reqs.size(), file, params.maxNewTokens(), batch, params.temperature());
        for (Decoder d : decoders.values()) {
            Generator.run(session, d, batch, reqs.subList(0, Math.min(warmup * batch, reqs.size())));
            d.calibrate();
        }
        Map<String, BenchStats> stats = new LinkedHashMap<>();
        decoders.keySet().forEach(k -> stats.put(k, new BenchStats()));
        for (int start = 0; start < reqs.size(); start += batch) {
            List<DecodeRequest> chunk = reqs.subList(start, Math.min(reqs.size(), start + batch));
            Map<String, List<Completion>> outs = new LinkedHashMap<>();
            Map<String, Double> secs = new LinkedHashMap<>();
            for (Map.Entry<String, Decoder> e : decoders.entrySet()) {
                long t0 = System.nanoTime();
                outs.put(e.getKey(), Generator.run(session, e.getValue(), batch, chunk));
                secs.put(e.getKey(), (System.nanoTime() - t0) / 1e9);
            }
            List<PromptDataset.Prompt> chunkPrompts = ps.subList(start, start + chunk.size());
            for (String m : decoders.keySet()) {
                stats.get(m).add(chunkPrompts, outs.get(m), secs.get(m), outs.get("none"), secs.get("none"));
            }
            progress.advance(chunk.size());
        }
        System.out.println(String.format(Locale.ROOT, "%-22s %6s %7s %9s %8s %10s", "method", "beta", "gamma",
                "tokens/s", "draft %", "identical"));
        stats.forEach((m, s) -> System.out.println(s.row(m)));
        printCategories(stats);
        return new Cell(batch, params.temperature(), stats);
    }

    private static void printCategories(Map<String, BenchStats> stats) {
        BenchStats first = stats.values().iterator().next();
        if (first.categories().size() <= 1) {
            return;
        }
        System.out.println("per category (beta / gamma):");
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-14s", "category"));
        stats.keySet().forEach(k -> head.append(String.format(Locale.ROOT, " %18s", k)));
        System.out.println(head);
        for (String cat : first.categories().keySet()) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-14s", cat));
            for (BenchStats s : stats.values()) {
                double[] c = s.categories().get(cat);
                line.append(String.format(Locale.ROOT, " %8.2f / %6.2fx", BenchStats.categoryBeta(c), BenchStats.categoryGamma(c)));
            }
            System.out.println(line);
        }
    }

    private void report(List<Cell> cells, Path file, EngineSession session) throws Exception {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        root.put("prompts", file.toString());
        root.put("model", session.modelDir().toString());
        root.put("max_new_tokens", sampling.toParams(128, 0).maxNewTokens());
        root.put("forward", session.forward().wireName());
        root.put("intra_op_threads", model.intraOpThreads());
        if (cells.size() == 1) {
            Cell c = cells.get(0);
            root.put("temperature", c.temperature());
            root.put("batch_size", c.batch());
            ObjectNode methods = root.putObject("drafters");
            c.stats().forEach((m, s) -> s.toJson(methods.putObject(m)));
        } else {
            ArrayNode matrix = root.putArray("matrix");
            for (Cell c : cells) {
                ObjectNode n = matrix.addObject();
                n.put("batch_size", c.batch());
                n.put("temperature", c.temperature());
                ObjectNode methods = n.putObject("drafters");
                c.stats().forEach((m, s) -> s.toJson(methods.putObject(m)));
            }
            printMatrix(cells);
        }
        Files.createDirectories(json.toAbsolutePath().getParent());
        om.writeValue(json.toFile(), root);
        Path chart = png != null ? png : json.resolveSibling(json.getFileName().toString().replaceAll("\\.json$", "") + ".png");
        if (cells.size() == 1) {
            List<BenchChart.Bar> bars = new ArrayList<>();
            cells.get(0).stats().forEach((m, s) -> bars.add(new BenchChart.Bar(m, s.beta(), s.gamma())));
            BenchChart.write(chart, "speculative decoding on " + file.getFileName(), bars);
        } else {
            List<String> methods = new ArrayList<>(cells.get(0).stats().keySet());
            double[][] gamma = new double[methods.size()][cells.size()];
            double[][] beta = new double[methods.size()][cells.size()];
            for (int j = 0; j < cells.size(); j++) {
                for (int i = 0; i < methods.size(); i++) {
                    gamma[i][j] = cells.get(j).stats().get(methods.get(i)).gamma();
                    beta[i][j] = cells.get(j).stats().get(methods.get(i)).beta();
                }
            }
            BenchChart.writeMatrix(chart, "gamma (beta) on " + file.getFileName(), methods,
                    cells.stream().map(Cell::label).toList(), gamma, beta);
        }
        System.out.println("wrote " + json + " and " + chart);
    }

    private static void printMatrix(List<Cell> cells) {
        System.out.println();
        System.out.println("gamma (beta) per batch size and temperature:");
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-18s", "method"));
        cells.forEach(c -> head.append(String.format(Locale.ROOT, " %15s", c.label())));
        System.out.println(head);
        for (String m : cells.get(0).stats().keySet()) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-18s", m));
            for (Cell c : cells) {
                BenchStats s = c.stats().get(m);
                line.append(String.format(Locale.ROOT, " %7.2fx (%4.2f)", s.gamma(), s.beta()));
            }
            System.out.println(line);
        }
    }
}

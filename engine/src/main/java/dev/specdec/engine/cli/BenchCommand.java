package dev.specdec.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.DecoderOptions;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.decode.Decoder;
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
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code specdec bench}: every decoding method on the same prompts in one process, interleaved per
 * prompt so that machine noise hits all methods alike. Reports the paper's metrics: beta (mean
 * tokens per decoding step, eq. 12) and gamma (mean per-prompt speedup in time per token over plain
 * decoding measured in the same run, eq. 13), plus tokens/s, the draft share of time and whether
 * each output equals plain decoding token for token; per prompt category too.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Compare decoding methods (beta, gamma, tokens/s, draft share, identical-to-plain) on a prompt set.")
public final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;
    @Option(names = "--prompts", description = "Prompt file (JSONL: {id,prompt,category}, MT-bench or GSM8K).")
    Path prompts;
    @Option(names = "--drafters", split = ",", defaultValue = "none,ctc,ctc-faithful,medusa",
            description = "Methods, each optionally with a tree: ctc@paper, ctc@ranked:16 (default ${DEFAULT-VALUE}).")
    List<String> drafters;
    @Option(names = "--tree", description = "Tree for every speculative method without its own @tree.")
    String tree;
    @Option(names = "--chain-stop", description = "CTC drafter: stop the draft chain below this probability.")
    Double chainStop;
    @Option(names = "--limit", description = "Use only the first N prompts.") Integer limit;
    @Option(names = "--batch-size", defaultValue = "1") int batchSize;
    @Option(names = "--warmup", defaultValue = "2", description = "Untimed prompts per method first.") int warmup;
    @Mixin
    SamplingOptions sampling;
    @Option(names = "--json", defaultValue = "bench-results/bench.json") Path json;
    @Option(names = "--png", description = "Chart file (default: beside --json).") Path png;

    /** Totals of one method. */
    private static final class Stat {
        double tokens;
        double seconds;
        double draftSeconds;
        double steps;
        double stepTokens;
        final List<Double> betas = new ArrayList<>();
        final List<Double> gammas = new ArrayList<>();
        int identical;
        int compared;
        final Map<String, List<double[]>> byCategory = new TreeMap<>();   // category -> {beta, gamma}
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
        SamplingParams params = sampling.toParams(128);
        try (EngineSession session = model.open(Math.max(1, batchSize))) {
            Map<String, Decoder> decoders = new LinkedHashMap<>();
            try {
                return run(session, decoders, ps, file, params);
            } finally {
                decoders.values().forEach(Decoder::close);
            }
        }
    }

    private int run(EngineSession session, Map<String, Decoder> decoders, List<PromptDataset.Prompt> ps, Path file,
                    SamplingParams params) throws Exception {
        for (String spec : drafters) {
            String name = spec.contains("@") ? spec.substring(0, spec.indexOf('@')) : spec;
            String t = spec.contains("@") ? spec.substring(spec.indexOf('@') + 1) : tree;
            decoders.put(spec, session.decoder(DecodingMethod.parse(name), new DecoderOptions(null, t, null, chainStop)));
        }
        List<DecodeRequest> reqs = new ArrayList<>();
        for (PromptDataset.Prompt p : ps) {
            reqs.add(new DecodeRequest(p.id(), session.tokenizer().encode(p.text()), params));
        }
        System.out.printf(Locale.ROOT, "model %s, %d prompts from %s, max %d new tokens, batch %d%n",
                session.model().config, reqs.size(), file, params.maxNewTokens(), batchSize);
        for (Map.Entry<String, Decoder> e : decoders.entrySet()) {
            Generator.run(session, e.getValue(), reqs.subList(0, Math.min(warmup, reqs.size())));
        }
        Map<String, Stat> stats = new LinkedHashMap<>();
        decoders.keySet().forEach(k -> stats.put(k, new Stat()));
        for (int start = 0; start < reqs.size(); start += batchSize) {
            List<DecodeRequest> chunk = reqs.subList(start, Math.min(reqs.size(), start + batchSize));
            Map<String, List<Completion>> outs = new LinkedHashMap<>();
            Map<String, Double> secs = new LinkedHashMap<>();
            for (Map.Entry<String, Decoder> e : decoders.entrySet()) {
                long t0 = System.nanoTime();
                outs.put(e.getKey(), Generator.run(session, e.getValue(), chunk));
                secs.put(e.getKey(), (System.nanoTime() - t0) / 1e9);
            }
            record(ps.subList(start, start + chunk.size()), outs, secs, stats);
        }
        report(stats, file, session, params);
        return 0;
    }

    private void record(List<PromptDataset.Prompt> ps, Map<String, List<Completion>> outs, Map<String, Double> secs,
                        Map<String, Stat> stats) {
        List<Completion> plain = outs.get("none");
        double plainTokens = plain.stream().mapToInt(Completion::completionTokens).sum();
        double plainPerToken = secs.get("none") / Math.max(1, plainTokens);
        for (Map.Entry<String, List<Completion>> e : outs.entrySet()) {
            Stat s = stats.get(e.getKey());
            List<Completion> rs = e.getValue();
            double tokens = rs.stream().mapToInt(Completion::completionTokens).sum();
            double perToken = secs.get(e.getKey()) / Math.max(1, tokens);
            double gamma = plainPerToken / perToken;
            s.tokens += tokens;
            s.seconds += secs.get(e.getKey());
            for (int i = 0; i < rs.size(); i++) {
                Completion r = rs.get(i);
                s.draftSeconds += r.speculation().draftMillis() / 1000;
                s.steps += r.speculation().steps();
                s.stepTokens += r.speculation().stepTokens();
                double beta = r.speculation().steps() == 0 ? 1 : r.speculation().meanAcceptanceLength();
                s.betas.add(beta);
                s.gammas.add(gamma);
                s.compared++;
                if (Arrays.equals(r.tokenIds(), plain.get(i).tokenIds())) {
                    s.identical++;
                }
                String cat = ps.get(i).category().isEmpty() ? "all" : ps.get(i).category();
                s.byCategory.computeIfAbsent(cat, k -> new ArrayList<>()).add(new double[] {beta, gamma});
            }
        }
    }

    private static double mean(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    private void report(Map<String, Stat> stats, Path file, EngineSession session, SamplingParams params) throws Exception {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        root.put("prompts", file.toString());
        root.put("model", session.modelDir().toString());
        root.put("max_new_tokens", params.maxNewTokens());
        root.put("temperature", params.temperature());
        root.put("batch_size", batchSize);
        ObjectNode methods = root.putObject("drafters");
        System.out.println();
        System.out.println(String.format(Locale.ROOT, "%-22s %6s %7s %9s %8s %10s", "method", "beta", "gamma",
                "tokens/s", "draft %", "identical"));
        List<BenchChart.Bar> bars = new ArrayList<>();
        for (Map.Entry<String, Stat> e : stats.entrySet()) {
            Stat s = e.getValue();
            double beta = mean(s.betas);
            double gamma = mean(s.gammas);
            double tps = s.tokens / s.seconds;
            double share = s.draftSeconds / s.seconds;
            double ident = (double) s.identical / Math.max(1, s.compared);
            System.out.println(String.format(Locale.ROOT, "%-22s %6.2f %6.2fx %9.1f %7.1f%% %9.0f%%", e.getKey(), beta,
                    gamma, tps, share * 100, ident * 100));
            ObjectNode m = methods.putObject(e.getKey());
            m.put("beta", beta);
            m.put("gamma", gamma);
            m.put("tokens_per_s", tps);
            m.put("draft_time_share", share);
            m.put("identical_to_plain", ident);
            m.put("tokens", s.tokens);
            m.put("seconds", s.seconds);
            m.put("steps", s.steps);
            ObjectNode cats = m.putObject("categories");
            for (Map.Entry<String, List<double[]>> c : s.byCategory.entrySet()) {
                ObjectNode cn = cats.putObject(c.getKey());
                cn.put("beta", c.getValue().stream().mapToDouble(x -> x[0]).average().orElse(Double.NaN));
                cn.put("gamma", c.getValue().stream().mapToDouble(x -> x[1]).average().orElse(Double.NaN));
                cn.put("prompts", c.getValue().size());
            }
            bars.add(new BenchChart.Bar(e.getKey(), beta, gamma));
        }
        if (stats.values().iterator().next().byCategory.size() > 1) {
            System.out.println();
            System.out.println("per category (beta / gamma):");
            Stat first = stats.values().iterator().next();
            StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-14s", "category"));
            stats.keySet().forEach(k -> head.append(String.format(Locale.ROOT, " %18s", k)));
            System.out.println(head);
            for (String cat : first.byCategory.keySet()) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-14s", cat));
                for (Stat s : stats.values()) {
                    List<double[]> v = s.byCategory.get(cat);
                    line.append(String.format(Locale.ROOT, " %8.2f / %6.2fx",
                            v.stream().mapToDouble(x -> x[0]).average().orElse(Double.NaN),
                            v.stream().mapToDouble(x -> x[1]).average().orElse(Double.NaN)));
                }
                System.out.println(line);
            }
        }
        Files.createDirectories(json.toAbsolutePath().getParent());
        om.writeValue(json.toFile(), root);
        Path chart = png != null ? png : json.resolveSibling(json.getFileName().toString().replaceAll("\\.json$", "") + ".png");
        BenchChart.write(chart, "speculative decoding on " + file.getFileName(), bars);
        System.out.println("wrote " + json + " and " + chart);
    }
}

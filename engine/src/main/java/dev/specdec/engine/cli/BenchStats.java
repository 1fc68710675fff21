package dev.specdec.engine.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.request.Completion;
import dev.specdec.engine.request.PromptDataset;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One method's totals in one benchmark cell (a batch size and a temperature), over chunks of
 * prompts run back to back with every method. beta is pooled, as the paper's mean acceptance length
 * and serving systems define it: all tokens decoding steps committed over all decoding steps (the
 * first token, from prefill, counts for neither); the mean of per-request ratios is kept beside it.
 * gamma is the mean over chunks of plain decoding's time per token over the method's, both from
 * the same chunk.
 */
final class BenchStats {
    private double tokens;
    private double seconds;
    private double draftSeconds;
    private long steps;
    private long stepTokens;
    private final List<Double> requestBetas = new ArrayList<>();
    private final List<Double> gammas = new ArrayList<>();
    private int identical;
    private int compared;
    private final Map<String, double[]> categories = new TreeMap<>();   // {steps, stepTokens, gamma sum, count}

    /** Adds one chunk: the method's completions and time, and plain decoding's for the same chunk. */
    void add(List<PromptDataset.Prompt> prompts, List<Completion> mine, double secs, List<Completion> plain,
             double plainSecs) {
        double myTokens = mine.stream().mapToInt(Completion::completionTokens).sum();
        double plainTokens = plain.stream().mapToInt(Completion::completionTokens).sum();
        double gamma = (plainSecs / Math.max(1, plainTokens)) / (secs / Math.max(1, myTokens));
        tokens += myTokens;
        seconds += secs;
        gammas.add(gamma);
        for (int i = 0; i < mine.size(); i++) {
            Completion.Speculation s = mine.get(i).speculation();
            draftSeconds += s.draftMillis() / 1000;
            steps += s.steps();
            stepTokens += s.stepTokens();
            requestBetas.add(s.steps() == 0 ? 1 : s.meanAcceptanceLength());
            compared++;
            if (Arrays.equals(mine.get(i).tokenIds(), plain.get(i).tokenIds())) {
                identical++;
            }
            String cat = prompts.get(i).category().isEmpty() ? "all" : prompts.get(i).category();
            double[] c = categories.computeIfAbsent(cat, k -> new double[4]);
            c[0] += s.steps();
            c[1] += s.stepTokens();
            c[2] += gamma;
            c[3]++;
        }
    }

    double beta() {
        return steps == 0 ? 1 : (double) stepTokens / steps;
    }

    double gamma() {
        return gammas.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    double tokensPerSecond() {
        return tokens / seconds;
    }

    double draftShare() {
        return draftSeconds / seconds;
    }

    double identicalShare() {
        return (double) identical / Math.max(1, compared);
    }

    Map<String, double[]> categories() {
        return categories;
    }

    static double categoryBeta(double[] c) {
        return c[0] == 0 ? 1 : c[1] / c[0];
    }

    static double categoryGamma(double[] c) {
        return c[2] / Math.max(1, c[3]);
    }

    void toJson(ObjectNode m) {
        m.put("beta", beta());
        m.put("beta_per_request_mean", requestBetas.stream().mapToDouble(Double::doubleValue).average().orElse(1));
        m.put("gamma", gamma());
        m.put("tokens_per_s", tokensPerSecond());
        m.put("draft_time_share", draftShare());
        m.put("identical_to_plain", identicalShare());
        m.put("tokens", tokens);
        m.put("seconds", seconds);
        m.put("steps", steps);
        ObjectNode cats = m.putObject("categories");
        categories.forEach((name, c) -> {
            ObjectNode cn = cats.putObject(name);
            cn.put("beta", categoryBeta(c));
            cn.put("gamma", categoryGamma(c));
            cn.put("prompts", (int) c[3]);
        });
    }

    String row(String method) {
        return String.format(Locale.ROOT, "%-22s %6.2f %6.2fx %9.1f %7.1f%% %9.0f%%", method, beta(), gamma(),
                tokensPerSecond(), draftShare() * 100, identicalShare() * 100);
    }
}

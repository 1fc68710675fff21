package dev.specdec.job.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Totals over a run's results (JSON lines): counts by finish reason, generated tokens, and the
 * throughput over the decoding span, from the first prefill to the last completion. Requests that
 * arrive while the decode operator still loads its model wait in the queue; starting the span at
 * the first prefill leaves model loading and cluster start-up out, as for the bare engine.
 */
public record ResultSummary(int results, Map<String, Integer> byFinishReason, long completionTokens,
                            double spanSeconds, double meanAcceptanceLength) {

    public static ResultSummary of(List<JsonNode> results) {
        Map<String, Integer> reasons = new TreeMap<>();
        long tokens = 0;
        long steps = 0;
        long stepTokens = 0;
        double first = Double.MAX_VALUE;
        double last = 0;
        for (JsonNode r : results) {
            reasons.merge(r.path("finish_reason").asText("?"), 1, Integer::sum);
            int n = r.path("usage").path("completion_tokens").asInt();
            tokens += n;
            int s = r.path("speculative").path("steps").asInt();
            steps += s;
            // Tokens emitted by verify steps: all but prefill's first token.
            stepTokens += s == 0 ? 0 : n - 1;
            double done = r.path("completed_time_ms").asDouble();
            JsonNode t = r.path("timings");
            double started = done - t.path("total_ms").asDouble() + t.path("queue_ms").asDouble();
            first = Math.min(first, started);
            last = Math.max(last, done);
        }
        double span = results.isEmpty() ? 0 : Math.max(1e-3, (last - first) / 1000.0);
        return new ResultSummary(results.size(), reasons, tokens, span, steps == 0 ? 0 : (double) stepTokens / steps);
    }

    public double tokensPerSecond() {
        return spanSeconds == 0 ? 0 : completionTokens / spanSeconds;
    }

    public int errors() {
        return byFinishReason.getOrDefault("error", 0);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d results %s, %d tokens in %.1f s (%.1f tokens/s, mean acceptance length %.2f)",
                results, byFinishReason, completionTokens, spanSeconds, tokensPerSecond(), meanAcceptanceLength);
    }
}

package dev.specdec.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a running job's metrics and checkpoint statistics from the local cluster's REST API (the
 * one behind the dashboard): the commands use it for their progress line and benchmark numbers.
 */
public final class FlinkRest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final String jobId;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    /** Metric name suffix -> the (vertex id, full metric id) pairs that end with it. */
    private final Map<String, List<String[]>> resolved = new HashMap<>();

    public FlinkRest(int port, String jobId) {
        this("127.0.0.1", port, jobId);
    }

    public FlinkRest(String host, int port, String jobId) {
        this.base = "http://" + host + ":" + port;
        this.jobId = jobId;
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + path + ": HTTP " + r.statusCode());
        }
        return JSON.readTree(r.body());
    }

    /**
     * Sum over all subtasks of every operator metric whose name ends with {@code suffix} (e.g.
     * {@code .completedRequests}); 0 while the metric is not registered yet.
     */
    public double sum(String suffix) throws IOException, InterruptedException {
        List<String[]> ids = resolved.get(suffix);
        if (ids == null || ids.isEmpty()) {
            ids = new ArrayList<>();
            for (JsonNode v : get("/jobs/" + jobId).path("vertices")) {
                String vid = v.get("id").asText();
                for (JsonNode m : get("/jobs/" + jobId + "/vertices/" + vid + "/subtasks/metrics")) {
                    String id = m.get("id").asText();
                    if (id.endsWith(suffix)) {
                        ids.add(new String[] {vid, id});
                    }
                }
            }
            resolved.put(suffix, ids);
        }
        double total = 0;
        for (String[] vm : ids) {
            String q = "/jobs/" + jobId + "/vertices/" + vm[0] + "/subtasks/metrics?agg=sum&get="
                    + URLEncoder.encode(vm[1], StandardCharsets.UTF_8);
            for (JsonNode m : get(q)) {
                total += m.path("sum").asDouble(0);
            }
        }
        return total;
    }

    /** The job's checkpoint statistics ({@code /jobs/:id/checkpoints}). */
    public JsonNode checkpoints() throws IOException, InterruptedException {
        return get("/jobs/" + jobId + "/checkpoints");
    }
}

package dev.specdec.job.cluster;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Jobs on a running Flink session cluster, submitted through its REST API: the job graph is built
 * here and sent with the user code it needs, so the cluster's own settings (parallelism,
 * checkpointing, restarts, state backend) hold unless the submitter sets them.
 */
public final class SessionJobs {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SessionJobs() {
    }

    /**
     * An environment whose jobs run on the session cluster at {@code host:port}.
     *
     * @param jobSettings settings of this job only (the cluster keeps the rest)
     * @param jars        user code to ship with the job: none when the TaskManagers have it on their
     *                    class path already (cluster-local's do), else the job jar
     */
    public static StreamExecutionEnvironment environment(String host, int port, Configuration jobSettings, List<Path> jars) {
        String[] files = new String[jars.size()];
        for (int i = 0; i < files.length; i++) {
            Path jar = jars.get(i).toAbsolutePath();
            if (!Files.isRegularFile(jar)) {
                throw new IllegalArgumentException("job jar " + jar + " does not exist (build it with mvn package)");
            }
            files[i] = jar.toString();
        }
        return StreamExecutionEnvironment.createRemoteEnvironment(host, port, jobSettings, files);
    }

    /** Prefixes of the cluster settings a job takes over (the rest only the cluster reads). */
    static final List<String> JOB_PREFIXES = List.of("execution.checkpointing.", "state.", "restart-strategy.",
            "pipeline.", "execution.state-recovery.", "parallelism.default");

    /**
     * The cluster's own checkpointing, state, restart and pipeline settings, read from its REST API
     * ({@code /jobmanager/config}). A job graph carries its checkpoint settings from where it is
     * built, so a job built here takes them over explicitly to run as the cluster is configured.
     */
    public static Configuration clusterSettings(String host, int port) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://" + host + ":" + port + "/jobmanager/config")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("the cluster at " + host + ":" + port + " answered HTTP " + r.statusCode()
                    + " to /jobmanager/config");
        }
        Map<String, String> settings = new HashMap<>();
        for (JsonNode e : JSON.readTree(r.body())) {
            String key = e.path("key").asText();
            if (JOB_PREFIXES.stream().anyMatch(key::startsWith)) {
                settings.put(key, e.path("value").asText());
            }
        }
        return Configuration.fromMap(settings);
    }

    /** {@code settings} plus what starts the job from a savepoint or retained checkpoint (null: none). */
    public static Configuration restoringFrom(Configuration settings, Path savepoint) {
        Configuration c = new Configuration(settings);
        if (savepoint != null) {
            c.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint.toUri().toString());
        }
        return c;
    }

    /** Stops the job with a savepoint in {@code dir} (without draining: requests in flight stay in state) and returns its path. */
    public static Path stopWithSavepoint(JobClient job, Path dir) throws Exception {
        String location = job.stopWithSavepoint(false, dir.toUri().toString(), SavepointFormatType.CANONICAL)
                .get(2, TimeUnit.MINUTES);
        return Path.of(java.net.URI.create(location.startsWith("file:") ? location : "file://" + location));
    }

    /** Parses {@code HOST:PORT} of a cluster's REST endpoint. */
    public static String[] hostAndPort(String address) {
        int colon = address == null ? -1 : address.lastIndexOf(':');
        if (colon < 1 || colon == address.length() - 1) {
            throw new IllegalArgumentException("--cluster takes HOST:PORT of the JobManager's REST endpoint, got '" + address + "'");
        }
        Integer.parseInt(address.substring(colon + 1));
        return new String[] {address.substring(0, colon), address.substring(colon + 1)};
    }
}

package dev.specdec.job.cluster;

import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.job.cli.LocalKafkaBroker;
import dev.specdec.job.decode.DecodeSettings;
import dev.specdec.job.kafka.ExactlyOnceResults;
import dev.specdec.job.kafka.KafkaTestCluster;
import dev.specdec.job.pipeline.KafkaEndpoint;
import dev.specdec.job.pipeline.StreamingJob;
import dev.specdec.job.records.RecordCodec;
import dev.specdec.job.records.RequestJson;
import dev.specdec.records.GenerationRequest;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job on a session cluster of separate processes (cluster-local's Kafka broker, JobManager and
 * TaskManagers), submitted through the REST API with parallelism 2: requests are decoded on both
 * TaskManagers; a TaskManager killed with SIGKILL mid-decoding is started again and no request is
 * lost or answered twice; stop-with-savepoint and resume at parallelism 1, then 3 (after adding a
 * TaskManager) moves the in-flight requests with their keyed state, for both cache checkpoint forms;
 * each TaskManager's Prometheus endpoint serves the decode operator's counters and histograms (every
 * series the Grafana dashboard charts); batch generation runs there through {@code batch --cluster};
 * and the dashboard renders the job graph in headless Chromium.
 */
class LocalClusterTest {
    static final int NEW_TOKENS = 150;

    @TempDir
    static Path tmp;
    static Path model;
    static LocalCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        model = TinyModel.create(tmp.resolve("model"));
        cluster = LocalCluster.start(tmp.resolve("cluster"), 2, LocalCluster.freePort(), LocalCluster.freePort(),
                Duration.ofMillis(300), System.err);
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    static Map<String, String> prompts(String prefix, int n) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            out.put(prefix + i, TinyModel.CORPUS.get(i % TinyModel.CORPUS.size()).substring(0, 10 + i % 9));
        }
        return out;
    }

    static SamplingParams params() {
        return SamplingParams.greedy(NEW_TOKENS).withIgnoreEos(true);
    }

    static void send(String topic, Map<String, String> prompts) throws Exception {
        RecordCodec<GenerationRequest> codec = RecordCodec.requests();
        List<Map.Entry<String, byte[]>> records = new ArrayList<>();
        prompts.forEach((id, p) -> records.add(new AbstractMap.SimpleEntry<>(id,
                codec.encode(RequestJson.newRequest(id, params()).setPrompt(p).build()))));
        KafkaTestCluster.send(cluster.bootstrapServers(), Map.of(), topic, records);
    }

    static JobClient submit(String prefix, int parallelism, Path savepoint, DecodeSettings.CacheCheckpoint form) throws Exception {
        KafkaEndpoint endpoint = new KafkaEndpoint(cluster.bootstrapServers(), prefix + "-prompts", prefix + "-results",
                prefix + "-dead", prefix, prefix, Duration.ofMinutes(5));
        DecodeSettings settings = DecodeSettings.builder().model(model.toString()).maxBatch(2).warmUpTokens(0)
                .cacheCheckpoint(form).build();
        StreamExecutionEnvironment env = SessionJobs.environment("127.0.0.1", cluster.webPort(),
                SessionJobs.restoringFrom(SessionJobs.clusterSettings("127.0.0.1", cluster.webPort()), savepoint), List.of());
        env.setParallelism(parallelism);
        StreamingJob.attach(env, endpoint, settings, RequestJson.STANDARD_DEFAULTS, parallelism);
        return env.executeAsync(prefix);
    }

    static List<ConsumerRecord<byte[], byte[]>> results(String topic, int atLeast, Duration settle) {
        return KafkaTestCluster.readCommitted(cluster.bootstrapServers(), Map.of(), topic, l -> l.size() >= atLeast,
                Duration.ofMinutes(4), settle);
    }

    /** Every request exactly once, with plain greedy decoding's tokens; returns how many resumed mid-decoding. */
    static int assertExactlyOnce(String topic, Map<String, String> prompts) throws Exception {
        return ExactlyOnceResults.check(results(topic, prompts.size(), Duration.ofSeconds(3)), model, prompts, params());
    }

    static String scrape(int taskManager) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(LocalCluster.prometheus(taskManager))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    /** The sum of {@code metric}'s samples for one job, or -1 when it has none. */
    static double sample(String scrape, String metric, JobClient job) {
        double sum = -1;
        for (String line : scrape.lines().toList()) {
            if (line.startsWith(metric + "{") && line.contains("job_id=\"" + job.getJobID() + "\"")) {
                sum = Math.max(sum, 0) + Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    /** Stop-with-savepoint, tried again while the job's tasks are still being deployed. */
    static Path savepoint(JobClient job, Path dir) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return SessionJobs.stopWithSavepoint(job, dir);
            } catch (java.util.concurrent.ExecutionException e) {
                if (attempt == 10 || !String.valueOf(e.getMessage()).contains("not being executed")) {
                    throw e;
                }
                Thread.sleep(1000);
            }
        }
    }

    /** Results committed so far (read until nothing new came for two seconds). */
    static int committed(String topic) {
        return results(topic, 0, Duration.ofSeconds(2)).size();
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void aTaskManagerKilledMidDecodingLosesNothingAndRepeatsNothing() throws Exception {
        String p = "kill";
        LocalKafkaBroker.createTopics(cluster.bootstrapServers(), Map.of(), List.of(p + "-prompts"), 2);
        LocalKafkaBroker.createTopics(cluster.bootstrapServers(), Map.of(), List.of(p + "-results", p + "-dead"), 1);
        Map<String, String> prompts = prompts("k", 16);
        send(p + "-prompts", prompts);
        JobClient job = submit(p, 2, null, DecodeSettings.CacheCheckpoint.COMPACT);
        try {
            results(p + "-results", 3, Duration.ZERO);
            // Both subtasks decode, each on a TaskManager of its own, and each serves its metrics.
            java.util.Set<String> subtasks = new java.util.TreeSet<>();
            int decoding = -1;
            for (int tm = 0; tm < cluster.taskManagerPids().size(); tm++) {
                String s = scrape(tm);
                if (sample(s, "flink_taskmanager_job_task_operator_device_verify_tokens", job) <= 0) {
                    continue;
                }
                decoding = tm;
                s.lines().filter(l -> l.startsWith("flink_taskmanager_job_task_operator_device_verify_tokens{")
                        && l.contains(job.getJobID().toString())).forEach(l -> subtasks.add(
                        l.replaceAll(".*subtask_index=\"(\\d+)\".*", "$1")));
                for (String series : List.of("flink_taskmanager_job_task_operator_device_draft_proposedTokens",
                        "flink_taskmanager_job_task_operator_device_draft_acceptedTokens",
                        "flink_taskmanager_job_task_operator_device_draft_requestSteps",
                        "flink_taskmanager_job_task_operator_device_draft_stepTokens",
                        "flink_taskmanager_job_task_operator_promptTokens",
                        "flink_taskmanager_job_task_operator_totalMillis",
                        "flink_taskmanager_job_task_operator_firstTokenMillis",
                        "flink_taskmanager_job_task_operator_queueMillis",
                        "flink_taskmanager_job_task_operator_timePerOutputTokenMillis")) {
                    assertTrue(s.contains(series + "{"), "taskmanager " + tm + " has no " + series);
                }
                assertTrue(s.contains("device=\""), "the device is a label");
                // Every series the Grafana dashboard charts exists.
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("flink_taskmanager_job_task_operator_\\w+")
                        .matcher(java.nio.file.Files.readString(
                        dev.specdec.engine.cli.Defaults.resolve("deploy/grafana/specdec-dashboard.json")));
                while (m.find()) {
                    assertTrue(s.contains(m.group() + "{"), "the dashboard charts " + m.group() + ", which taskmanager " + tm
                            + " does not serve");
                }
            }
            assertEquals(java.util.Set.of("0", "1"), subtasks, "the decode subtasks that decoded");
            long victim = cluster.taskManagerPids().get(decoding);
            ProcessHandle.of(victim).orElseThrow().destroyForcibly();
            int resumed = assertExactlyOnce(p + "-results", prompts);
            assertTrue(resumed > 0, "no request continued from a checkpoint after the TaskManager died");
            assertTrue(!cluster.taskManagerPids().contains(victim), "the dead TaskManager was not started again");
        } finally {
            job.cancel().get(1, TimeUnit.MINUTES);
        }
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void batchGenerationRunsOnTheSessionClusterThroughTheCommandLine() throws Exception {
        Map<String, String> prompts = prompts("b", 6);
        StringBuilder lines = new StringBuilder();
        prompts.forEach((id, text) -> lines.append("{\"id\":\"").append(id).append("\",\"prompt\":\"").append(text)
                .append("\",\"max_new_tokens\":12,\"ignore_eos\":true}\n"));
        Path input = tmp.resolve("batch-in.jsonl");
        java.nio.file.Files.writeString(input, lines);
        Path out = tmp.resolve("batch-out");
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        int code;
        try {
            System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
            code = dev.specdec.engine.cli.EngineMain.execute(new picocli.CommandLine(new dev.specdec.cli.SpecdecMain()),
                    new String[] {"batch", "--cluster", "127.0.0.1:" + cluster.webPort(), "--job-jar", "none", "--input",
                            input.toString(), "--output", out.toString(), "--model", model.toString(), "--quiet"});
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code, buf.toString());
        List<com.fasterxml.jackson.databind.JsonNode> results = dev.specdec.job.cli.OutputFiles.committedLines(out, "results");
        Map<String, int[]> expected = TinyModel.reference(model, prompts, SamplingParams.greedy(12).withIgnoreEos(true));
        assertEquals(prompts.size(), results.size());
        for (com.fasterxml.jackson.databind.JsonNode r : results) {
            int[] got = new int[r.get("token_ids").size()];
            for (int i = 0; i < got.length; i++) {
                got[i] = r.get("token_ids").get(i).asInt();
            }
            assertArrayEquals(expected.get(r.get("request_id").asText()), got, r.toString());
        }
    }

    /**
     * The Flink dashboard in a real browser (headless Chromium, Debian's {@code chromium}): the running
     * job's page renders its graph with the decode operator, and a screenshot of it is written to
     * {@code target/dashboard.png} (the README's picture is one such screenshot).
     */
    @Test
    @Timeout(value = 12, unit = TimeUnit.MINUTES)
    void theDashboardShowsTheJobGraphInABrowser() throws Exception {
        String p = "browser";
        LocalKafkaBroker.createTopics(cluster.bootstrapServers(), Map.of(), List.of(p + "-prompts", p + "-results", p + "-dead"), 1);
        JobClient job = submit(p, 1, null, DecodeSettings.CacheCheckpoint.COMPACT);
        try {
            String page = "http://127.0.0.1:" + cluster.webPort() + "/#/job/running/" + job.getJobID() + "/overview";
            String dom = "";
            for (int attempt = 0; attempt < 6 && !dom.contains("speculative-decode"); attempt++) {
                dom = chromium("--dump-dom", page);
            }
            assertTrue(dom.contains("speculative-decode"), "the job graph with the decode operator did not render");
            Path shot = Path.of("target", "dashboard.png").toAbsolutePath();
            java.nio.file.Files.deleteIfExists(shot);
            for (int attempt = 0; attempt < 6 && !java.nio.file.Files.exists(shot); attempt++) {
                chromium("--screenshot=" + shot, page);
            }
            byte[] png = java.nio.file.Files.readAllBytes(shot);
            assertTrue(png.length > 10_000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "a screenshot of the page");
        } finally {
            job.cancel().get(1, TimeUnit.MINUTES);
        }
    }

    /**
     * Runs headless Chromium on a page (letting its scripts run for 20 s of virtual time) and returns
     * what it printed, or "" when it did not finish within 45 s: about one run in four never reaches
     * the end of its virtual time on the dashboard's polling page, so callers try again. Its output goes
     * to a file: helper processes Chromium leaves behind would keep a pipe open after it exits.
     */
    static String chromium(String what, String page) throws Exception {
        Path out = java.nio.file.Files.createTempFile(tmp, "chromium", ".out");
        Process c = new ProcessBuilder("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--window-size=1400,900", "--virtual-time-budget=20000", what, page)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            if (!c.waitFor(45, TimeUnit.SECONDS)) {
                return "";
            }
            assertEquals(0, c.exitValue(), "chromium failed");
            return java.nio.file.Files.readString(out);
        } finally {
            c.descendants().forEach(ProcessHandle::destroyForcibly);
            c.destroyForcibly();
        }
    }

    @ParameterizedTest
    @EnumSource(DecodeSettings.CacheCheckpoint.class)
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void rescalingTwoToOneToThreeThroughSavepointsFinishesEveryRequestOnce(DecodeSettings.CacheCheckpoint form) throws Exception {
        String p = "rescale-" + form.name().toLowerCase(java.util.Locale.ROOT);
        LocalKafkaBroker.createTopics(cluster.bootstrapServers(), Map.of(), List.of(p + "-prompts"), 2);
        LocalKafkaBroker.createTopics(cluster.bootstrapServers(), Map.of(), List.of(p + "-results", p + "-dead"), 1);
        Map<String, String> prompts = prompts(form.name().charAt(0) + "r", 24);
        send(p + "-prompts", prompts);
        Path savepoints = tmp.resolve(p + "-savepoints");

        List<JobClient> jobs = new ArrayList<>();
        try {
            jobs.add(submit(p, 2, null, form));
            results(p + "-results", 2, Duration.ZERO);
            Path first = savepoint(jobs.get(0), savepoints);
            int done = committed(p + "-results");
            assertTrue(done < prompts.size(), "every request finished before the first savepoint");

            jobs.add(submit(p, 1, first, form));
            results(p + "-results", done + 2, Duration.ZERO);
            Path second = savepoint(jobs.get(1), savepoints);

            while (cluster.taskManagerPids().size() < 3) {
                cluster.addTaskManager();
            }
            jobs.add(submit(p, 3, second, form));
            int resumed = assertExactlyOnce(p + "-results", prompts);
            assertTrue(resumed > 0, "no request was in flight across a savepoint");
        } finally {
            for (JobClient j : jobs) {
                if (!j.getJobStatus().get(10, TimeUnit.SECONDS).isGloballyTerminalState()) {
                    j.cancel().get(1, TimeUnit.MINUTES);
                }
            }
        }
    }
}

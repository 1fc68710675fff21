package dev.specdec.job.cli;

import dev.specdec.engine.cli.SamplingOptions;
import dev.specdec.job.records.RequestJson;
import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.TorchThreads;
import dev.specdec.engine.serve.BatchScheduler;
import dev.specdec.engine.serve.Generator;
import dev.specdec.engine.serve.RestoreCost;
import dev.specdec.engine.cli.Defaults;
import dev.specdec.engine.progress.ProgressLine;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.Completion;
import dev.specdec.engine.request.PromptDataset;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.tokenizer.TextTokenizer;
import dev.specdec.job.decode.DecodeSettings;
import dev.specdec.job.pipeline.JobEnvironment;
import dev.specdec.job.pipeline.SpecdecPipeline;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code specdec bench-job}: end-to-end throughput of the Flink job against the bare engine (the
 * same {@link BatchScheduler}, driven on one thread) on the same requests, in one run, per batch size, with
 * plain decoding in the engine as the reference speculation must beat; then the checkpoint size
 * and duration of both KV-cache checkpoint forms. Token rates count generated tokens over the
 * decoding span (first request arrival to last completion for the job, the {@code run} call for
 * the engine); model loading and cluster start-up are excluded from both.
 */
@Command(name = "bench-job", mixinStandardHelpOptions = true,
        description = "Flink job vs bare engine tokens/s per batch size, and checkpoint cost of the two cache forms.")
public final class BenchJobCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Option(names = "--prompts", description = "Prompt file (default: " + BatchCommand.DEFAULT_INPUT + ").")
    Path prompts;

    @Option(names = "--requests", defaultValue = "32", description = "Requests per run, cycling over the prompts (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--batch-sizes", split = ",", defaultValue = "1,4,16", description = "Default ${DEFAULT-VALUE}.")
    int[] batchSizes;

    @Option(names = "--checkpoint-modes", split = ",", defaultValue = "compact,full-tensor",
            description = "Cache checkpoint forms to measure at the largest batch size (empty: skip).")
    List<String> checkpointModes;

    @Option(names = "--checkpoint-interval", defaultValue = "500ms", converter = DurationConverter.class,
            description = "Checkpoint interval of the checkpoint runs (default ${DEFAULT-VALUE}).")
    Duration checkpointInterval;

    @Option(names = "--repeats", defaultValue = "1",
            description = "Engine and job runs per batch size, alternating; the best of each counts (default ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--web-port", defaultValue = "8081", description = "REST port of the local cluster (default ${DEFAULT-VALUE}).")
    int webPort;

    @Option(names = "--json", defaultValue = "bench-results/job.json", description = "Where to write the numbers.")
    Path json;

    @Mixin
    DecodeOptions decode;

    @Mixin
    SamplingOptions sampling;

    /**
     * One measured run. {@code computeShare}: the model's prefill, draft and verify time summed over
     * requests (each step's time is split among its batch), over the span; 1.0 means the model never
     * waited, so a lower token rate comes from slower model calls, not from the job's scheduling.
     */
    private record Run(double tokensPerSecond, long tokens, double seconds, Map<String, int[]> outputs, double beta,
                       double computeShare) {
    }

    @Override
    public Integer call() throws Exception {
        if (requests < 1) {
            throw new IllegalArgumentException("--requests must be at least 1");
        }
        Path promptFile = prompts != null ? prompts : Defaults.resolve(BatchCommand.DEFAULT_INPUT);
        List<PromptDataset.Prompt> base = PromptDataset.read(promptFile);
        if (base.isEmpty()) {
            throw new IllegalArgumentException(promptFile + " has no prompts");
        }
        SamplingParams defaults = sampling.toParams(RequestJson.DEFAULT_MAX_NEW_TOKENS);
        Path workDir = TempDirs.create("specdec-bench-job");
        Path input = workDir.resolve("requests.jsonl");
        Map<String, String> texts = writeRequests(input, "r", requests, base);

        ObjectNode root = JSON.createObjectNode();
        root.put("model", decode.modelDir().toString());
        root.put("drafter", decode.settings().defaultMethod().wireName());
        root.put("requests", requests);
        root.put("repeats", Math.max(1, repeats));
        root.put("max_new_tokens", defaults.maxNewTokens());
        int cores = Runtime.getRuntime().availableProcessors();
        // The local cluster has one slot; the bare engine runs with the same thread count as the job's
        // engine, and once more on every core for reference (what the job leaves to Flink's threads).
        int threads = decode.settings().intraOpThreads(cores, 1);
        root.put("cpus", cores);
        root.put("intra_op_threads", threads);
        ArrayNode rows = root.putArray("throughput");
        System.out.printf(Locale.ROOT, "intra-op threads: %d for the job and the engine; reference: the engine on all %d cores%n",
                threads, cores);
        System.out.println("batch  engine tok/s  job tok/s  job/engine  model share: engine  job  beta(job)  identical"
                + "  engine tok/s, all cores  plain engine tok/s  job/plain");
        List<String> modes = checkpointModes == null ? List.of()
                : checkpointModes.stream().map(String::trim).filter(m -> !m.isEmpty()).toList();
        // A run is one repetition at one batch size (the engine and the job), or one checkpoint form.
        ProgressLine progress = new ProgressLine("bench-job", "run", 0,
                (long) batchSizes.length * Math.max(1, repeats) + modes.size(), System.err);
        for (int b : batchSizes) {
            Run engine = null;
            Run job = null;
            Run allCores = null;
            Run plain = null;
            boolean identical = true;
            // Alternating runs (the order flips every repetition), best of each: on a shared machine,
            // other load slows whichever runs during it.
            for (int rep = 0; rep < Math.max(1, repeats); rep++) {
                Run e = rep % 2 == 0 ? engineRun(texts, defaults, b, threads) : null;
                Run j = jobRun(input, defaults, b, decode.queueFactor, DecodeSettings.CacheCheckpoint.COMPACT,
                        Duration.ofSeconds(2), workDir, null);
                if (e == null) {
                    e = engineRun(texts, defaults, b, threads);
                }
                Run a = cores == threads ? e : engineRun(texts, defaults, b, cores);
                // Plain decoding in the engine, same threads: what the job's speculation must beat.
                Run p = decode.settings().defaultMethod().isSpeculative()
                        ? engineRun(texts, defaults, b, threads, DecodingMethod.NONE) : e;
                identical &= sameOutputs(e.outputs(), j.outputs()) && sameOutputs(a.outputs(), j.outputs())
                        && sameOutputs(p.outputs(), j.outputs());
                plain = best(plain, p);
                engine = best(engine, e);
                job = best(job, j);
                allCores = best(allCores, a);
                progress.advance(1);
            }
            double ratio = job.tokensPerSecond() / engine.tokensPerSecond();
            double overPlain = job.tokensPerSecond() / plain.tokensPerSecond();
            System.out.printf(Locale.ROOT, "%5d  %12.1f  %9.1f  %9.1f%%  %18.1f%%  %4.1f%%  %9.2f  %-9s  %23.1f  %18.1f  %8.2fx%n", b,
                    engine.tokensPerSecond(), job.tokensPerSecond(), 100 * ratio, 100 * engine.computeShare(),
                    100 * job.computeShare(), job.beta(), identical ? "yes" : "NO", allCores.tokensPerSecond(),
                    plain.tokensPerSecond(), overPlain);
            ObjectNode r = rows.addObject();
            r.put("batch", b);
            r.put("engine_tokens_per_s", engine.tokensPerSecond());
            r.put("engine_tokens", engine.tokens());
            r.put("engine_seconds", engine.seconds());
            r.put("job_tokens_per_s", job.tokensPerSecond());
            r.put("job_tokens", job.tokens());
            r.put("job_seconds", job.seconds());
            r.put("job_over_engine", ratio);
            r.put("job_mean_acceptance_length", job.beta());
            r.put("engine_model_time_share", engine.computeShare());
            r.put("job_model_time_share", job.computeShare());
            r.put("engine_all_cores_tokens_per_s", allCores.tokensPerSecond());
            r.put("job_over_engine_all_cores", job.tokensPerSecond() / allCores.tokensPerSecond());
            r.put("engine_plain_tokens_per_s", plain.tokensPerSecond());
            r.put("job_over_plain", overPlain);
            r.put("identical_outputs", identical);
        }
        if (!modes.isEmpty()) {
            int b = Arrays.stream(batchSizes).max().orElse(1);
            ArrayNode cps = root.putArray("checkpoints");
            System.out.println("checkpoints at batch " + b + ", every " + checkpointInterval.toMillis() + " ms:");
            System.out.println("form          checkpoints  max state bytes  median ms  max ms");
            // Admission of one batch and four batches of requests keep the input backpressured, so
            // checkpoints are taken with a full batch mid-generation (none completes during the final drain).
            Path ckInput = workDir.resolve("checkpoint-requests.jsonl");
            writeRequests(ckInput, "c", 4 * b, base);
            for (String mode : modes) {
                AtomicReference<JsonNode> stats = new AtomicReference<>();
                jobRun(ckInput, defaults, b, 1, DecodeOptions.cacheMode(mode), checkpointInterval, workDir, stats);
                ObjectNode c = checkpointRow(mode, stats.get());
                cps.add(c);
                System.out.printf(Locale.ROOT, "%-12s  %11d  %15d  %9.0f  %6.0f%n", mode, c.get("completed").asInt(),
                        c.get("max_state_bytes").asLong(), c.get("median_duration_ms").asDouble(),
                        c.get("max_duration_ms").asDouble());
                progress.advance(1);
            }
        }
        if (!modes.isEmpty()) {
            int b = Arrays.stream(batchSizes).max().orElse(1);
            TorchThreads.use(threads);
            RestoreCost.Result rc = restoreCost(texts, defaults, b);
            ObjectNode r = root.putObject("restore");
            r.put("requests", b);
            r.put("tokens_per_request", rc.tokensPerRequest());
            r.put("reprefill_ms", rc.reprefillMillis());
            r.put("import_ms", rc.importMillis());
            r.put("snapshot_bytes", rc.snapshotBytes());
            System.out.printf(Locale.ROOT, "restore of %d half-decoded requests (%.0f tokens each): re-prefill %.0f ms"
                            + " (compact), tensor import %.0f ms (full-tensor, %.1f MB uncompressed)%n", b,
                    rc.tokensPerRequest(), rc.reprefillMillis(), rc.importMillis(), rc.snapshotBytes() / 1e6);
        }
        Files.createDirectories(json.toAbsolutePath().getParent());
        JSON.writeValue(json.toFile(), root);
        System.out.println("wrote " + json);
        return 0;
    }

    /** Writes {@code n} requests cycling over the prompts; returns id -> prompt text. */
    private static Map<String, String> writeRequests(Path file, String prefix, int n, List<PromptDataset.Prompt> base)
            throws java.io.IOException {
        Map<String, String> texts = new java.util.LinkedHashMap<>();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = String.format(Locale.ROOT, "%s%03d", prefix, i);
            String text = base.get(i % base.size()).text();
            texts.put(id, text);
            lines.add(JSON.copy().disable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(JSON.createObjectNode().put("id", id).put("prompt", text)));
        }
        Files.write(file, lines, StandardCharsets.UTF_8);
        return texts;
    }

    /** Restore cost of both cache forms for b requests decoded half-way (a fixed-length budget keeps them going). */
    private RestoreCost.Result restoreCost(Map<String, String> texts, SamplingParams d, int b) throws Exception {
        DecodeSettings s = decode.settings();
        SamplingParams params = new SamplingParams(d.maxNewTokens() * 2, d.temperature(), d.topK(), d.topP(), d.seed(),
                Set.of(), List.of(), true);
        List<DecodeRequest> reqs = new ArrayList<>();
        try (TextTokenizer tok = TextTokenizer.load(Path.of(s.modelDir()))) {
            for (Map.Entry<String, String> e : texts.entrySet()) {
                if (reqs.size() < b) {
                    reqs.add(new DecodeRequest(e.getKey(), tok.encode(e.getValue()), params));
                }
            }
        }
        return RestoreCost.measure(Path.of(s.modelDir()), s.serve().withMaxBatch(b), reqs, d.maxNewTokens());
    }

    private static Run best(Run a, Run b) {
        return a == null || b.tokensPerSecond() > a.tokensPerSecond() ? b : a;
    }

    /**
     * The bare engine: the same scheduler the job's operator drives ({@link BatchScheduler}), on this
     * thread, over all requests at batch size b, after the same warm-up the job's engine gets.
     */
    private Run engineRun(Map<String, String> texts, SamplingParams params, int b, int threads) throws Exception {
        return engineRun(texts, params, b, threads, decode.settings().defaultMethod());
    }

    private Run engineRun(Map<String, String> texts, SamplingParams params, int b, int threads, DecodingMethod method)
            throws Exception {
        TorchThreads.use(threads);
        DecodeSettings s = decode.settings();
        try (BatchScheduler scheduler = BatchScheduler.open(Path.of(s.modelDir()), Device.cpu(), s.serve().withMaxBatch(b))) {
            List<DecodeRequest> reqs = new ArrayList<>();
            texts.forEach((id, t) -> reqs.add(new DecodeRequest(id, scheduler.session().tokenizer().encode(t), params)));
            scheduler.warmUp();
            long t0 = System.nanoTime();
            List<Completion> out = Generator.run(scheduler, method, reqs, c -> { });
            double secs = (System.nanoTime() - t0) / 1e9;
            Map<String, int[]> outputs = new HashMap<>();
            long tokens = 0;
            long steps = 0;
            long stepTokens = 0;
            double computeMs = 0;
            for (Completion r : out) {
                computeMs += r.timings().prefillMillis() + r.speculation().draftMillis() + r.speculation().verifyMillis();
                outputs.put(r.id(), r.tokenIds());
                tokens += r.completionTokens();
                steps += r.speculation().steps();
                stepTokens += r.speculation().stepTokens();
            }
            return new Run(tokens / secs, tokens, secs, outputs, steps == 0 ? 0 : (double) stepTokens / steps,
                    computeMs / 1000 / secs);
        }
    }

    /** The Flink job over the same requests; optionally records the checkpoint statistics while it runs. */
    private Run jobRun(Path input, SamplingParams d, int b, int queueFactor, DecodeSettings.CacheCheckpoint mode,
                       Duration interval, Path workDir, AtomicReference<JsonNode> checkpointStats) throws Exception {
        DecodeSettings s = decode.settings().toBuilder().maxBatch(b).queueFactor(queueFactor).cacheCheckpoint(mode)
                .build();
        Path out = Files.createTempDirectory(workDir, "out-b" + b + "-");
        Path ckpt = Files.createTempDirectory(workDir, "ckpt-");
        Configuration conf = JobEnvironment.local(JobEnvironment.configuration(interval, ckpt.toUri().toString(), 0), 1,
                freeWebPort());
        int port = conf.get(org.apache.flink.configuration.RestOptions.PORT);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        env.setParallelism(1);
        SpecdecPipeline.Outputs streams = SpecdecPipeline.builder().decode(s).defaults(d).fileInput(input.toString()).build(env);
        SpecdecPipeline.sinkResultsToFiles(streams.results(), out.toString());
        SpecdecPipeline.sinkDeadLettersToFiles(streams.deadLetters(), out.resolve("dead-letters").toString());
        JobClient job = env.executeAsync("specdec bench-job b=" + b);
        // Checkpoint statistics live only as long as the job: sample them while it runs.
        Thread poller = null;
        if (checkpointStats != null) {
            FlinkRest rest = new FlinkRest(port, job.getJobID().toString());
            poller = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        checkpointStats.set(rest.checkpoints());
                        Thread.sleep(250);
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception notYet) {
                        // starting or finished
                    }
                }
            }, "specdec-bench-checkpoints");
            poller.setDaemon(true);
            poller.start();
        }
        try {
            job.getJobExecutionResult().get();
        } finally {
            if (poller != null) {
                poller.interrupt();
                poller.join(2000);
            }
        }
        List<JsonNode> results = OutputFiles.committedLines(out, "results");
        ResultSummary sum = ResultSummary.of(results);
        Map<String, int[]> outputs = new HashMap<>();
        double computeMs = 0;
        for (JsonNode r : results) {
            computeMs += r.path("timings").path("prefill_ms").asDouble() + r.path("speculative").path("draft_ms").asDouble()
                    + r.path("speculative").path("verify_ms").asDouble();
            JsonNode ids = r.get("token_ids");
            int[] v = new int[ids.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = ids.get(i).asInt();
            }
            outputs.put(r.get("request_id").asText(), v);
        }
        return new Run(sum.tokensPerSecond(), sum.completionTokens(), sum.spanSeconds(), outputs, sum.meanAcceptanceLength(),
                computeMs / 1000 / sum.spanSeconds());
    }

    private int freeWebPort() throws Exception {
        ClusterOptions c = new ClusterOptions();
        c.webPort = webPort;
        return c.webPort();
    }

    private static boolean sameOutputs(Map<String, int[]> a, Map<String, int[]> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (Map.Entry<String, int[]> e : a.entrySet()) {
            if (!Arrays.equals(e.getValue(), b.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** Completed checkpoints' size and duration from the REST checkpoint statistics. */
    private static ObjectNode checkpointRow(String mode, JsonNode stats) {
        ObjectNode c = JSON.createObjectNode();
        c.put("form", mode);
        List<Long> sizes = new ArrayList<>();
        List<Double> durations = new ArrayList<>();
        if (stats != null) {
            for (JsonNode h : stats.path("history")) {
                if ("COMPLETED".equals(h.path("status").asText())) {
                    sizes.add(h.path("state_size").asLong(h.path("checkpointed_size").asLong()));
                    durations.add(h.path("end_to_end_duration").asDouble());
                }
            }
        }
        durations.sort(Double::compare);
        c.put("completed", sizes.size());
        c.put("max_state_bytes", sizes.stream().mapToLong(Long::longValue).max().orElse(0));
        c.put("mean_state_bytes", sizes.stream().mapToLong(Long::longValue).average().orElse(0));
        c.put("median_duration_ms", durations.isEmpty() ? 0 : durations.get(durations.size() / 2));
        c.put("max_duration_ms", durations.isEmpty() ? 0 : durations.get(durations.size() - 1));
        return c;
    }
}

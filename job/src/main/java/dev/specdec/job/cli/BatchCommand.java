package dev.specdec.job.cli;

import dev.specdec.engine.cli.SamplingOptions;
import dev.specdec.job.records.RequestJson;
import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.engine.cli.Defaults;
import dev.specdec.job.pipeline.SpecdecPipeline;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code specdec batch}: generation over a dataset with the Flink job on an in-process cluster,
 * observable in the Flink dashboard while it runs. The bounded job ends when the dataset is done;
 * results are JSON lines in the output folder (dead letters in its {@code dead-letters/}).
 */
@Command(name = "batch", mixinStandardHelpOptions = true,
        description = {"Generate completions for a dataset with the Flink job on a local cluster.",
                "The Flink dashboard is served at http://127.0.0.1:8081 while the job runs."})
public final class BatchCommand implements Callable<Integer> {
    static final String DEFAULT_INPUT = "data/sample-prompts.jsonl";

    @Option(names = "--input", description = {"Request file or folder: JSON lines ({id, prompt}, MT-bench, GSM8K,",
            "or GenerationRequest fields) or .avro files (default: " + DEFAULT_INPUT + ")."})
    Path input;

    @Option(names = "--output", defaultValue = "batch-output",
            description = "Folder for results-*.jsonl and dead-letters/ (default ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = "--overwrite", description = "Replace the results of an earlier run in the output folder.")
    boolean overwrite;

    @Option(names = "--resume",
            description = {"Finish a run that was interrupted (Ctrl-C, kill, crash) in the output folder: from its",
                    "newest checkpoint, keeping the results it committed; none is generated twice."})
    boolean resume;

    @Option(names = "--quiet", description = "No progress line.")
    boolean quiet;

    @Mixin
    DecodeOptions decode;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    ClusterOptions cluster;

    @Mixin
    SessionClusterOptions session;

    @Override
    public Integer call() throws Exception {
        Path in = (input != null ? input : Defaults.resolve(DEFAULT_INPUT)).toAbsolutePath();
        if (!Files.exists(in)) {
            throw new IllegalArgumentException("input " + in + " does not exist");
        }
        Path out = output.toAbsolutePath();
        var settings = decode.settings();
        Path checkpoints = cluster.checkpointFolder(out.resolve(".checkpoints"));
        prepare(out, checkpoints);
        StreamExecutionEnvironment env = environment(checkpoints);
        String[] rest = session.remote() ? session.hostAndPort() : new String[] {"127.0.0.1", Integer.toString(cluster.webPort())};
        int port = Integer.parseInt(rest[1]);
        SpecdecPipeline.Outputs streams = SpecdecPipeline.builder()
                .decode(settings)
                .defaults(sampling.toParams(RequestJson.DEFAULT_MAX_NEW_TOKENS))
                .limits(decode.limits())
                .fileInput(in.toString())
                .parallelism(env.getParallelism())
                .build(env);
        SpecdecPipeline.sinkResultsToFiles(streams.results(), out.toString());
        SpecdecPipeline.sinkDeadLettersToFiles(streams.deadLetters(), out.resolve("dead-letters").toString());

        long total = InputCount.count(in);
        System.err.println("specdec batch: " + total + " requests from " + in + (resume ? " (resumed)" : ""));
        if (resume) {
            total = Math.max(0, total - OutputFiles.committedLines(out, "results").size()
                    - OutputFiles.committedLines(out.resolve("dead-letters"), "dead-letters").size());
        }
        System.err.println("Flink dashboard: http://" + rest[0] + ":" + port + "  (the job ends when the dataset is done)");
        JobClient job = env.executeAsync("specdec batch: " + in.getFileName());
        BatchProgress progress = new BatchProgress(new FlinkRest(rest[0], port, job.getJobID().toString()), total, System.err);
        Thread progressThread = new Thread(progress, "specdec-progress");
        progressThread.setDaemon(true);
        if (!quiet) {
            progressThread.start();
        }
        try {
            job.getJobExecutionResult().get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw JobFailure.of("the batch job", e);
        } finally {
            progress.stop();
            progressThread.interrupt();
            progressThread.join(2000);
        }
        // A finished run needs neither its checkpoints nor files a killed run left in progress.
        LocalCheckpoints.clear(checkpoints);
        OutputFiles.removeAbandoned(out, "results");
        OutputFiles.removeAbandoned(out.resolve("dead-letters"), "dead-letters");
        List<JsonNode> results = OutputFiles.committedLines(out, "results");
        List<JsonNode> dead = OutputFiles.committedLines(out.resolve("dead-letters"), "dead-letters");
        ResultSummary summary = ResultSummary.of(results);
        System.out.println(summary);
        System.out.println("results: " + out + "/results-*.jsonl"
                + (dead.isEmpty() ? "" : "; " + dead.size() + " dead letters: " + out.resolve("dead-letters")));
        return 0;
    }

    /**
     * The bounded job's environment: this process's own cluster, or with --cluster the session
     * cluster (the input and output folders must then be paths its TaskManagers see). Either way
     * checkpoints go to {@code checkpoints}, kept on cancel, and --resume restores the newest.
     */
    private StreamExecutionEnvironment environment(Path checkpoints) throws Exception {
        if (!session.remote()) {
            Configuration conf = cluster.configuration(checkpoints, resume);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
            env.setParallelism(cluster.parallelism());
            return env;
        }
        Configuration extra = new Configuration();
        LocalCheckpoints.keepIn(extra, checkpoints, resume);
        return session.environment(cluster, extra);
    }

    /** Checks the output folder against --resume and --overwrite and clears it for a new run. */
    private void prepare(Path out, Path checkpoints) throws IOException {
        boolean interrupted = LocalCheckpoints.latest(checkpoints).isPresent();
        if (resume) {
            if (overwrite) {
                throw new IllegalArgumentException("--resume keeps an earlier run's results and --overwrite replaces them: pass one");
            }
            if (!interrupted) {
                throw new IllegalArgumentException("nothing to resume in " + out + ": no checkpoint of an interrupted run"
                        + " in " + checkpoints + " (run without --resume)");
            }
            return;
        }
        if (interrupted && !overwrite) {
            throw new IllegalArgumentException("output folder " + out + " holds an interrupted run"
                    + " (pass --resume to finish it, or --overwrite to start again)");
        }
        LocalCheckpoints.clear(checkpoints);
        OutputFiles.prepare(out, overwrite);
    }
}

package dev.specdec.job.cli;

import dev.specdec.engine.cli.Defaults;
import dev.specdec.job.cluster.SessionJobs;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code --cluster HOST:PORT}: run the command's job on a running Flink session cluster (its REST
 * endpoint) instead of one inside this process. The cluster's own checkpointing, restart, state and
 * parallelism settings hold; only the flags given on the command line change them.
 */
public final class SessionClusterOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--cluster", paramLabel = "HOST:PORT",
            description = {"Submit the job to this Flink session cluster's REST endpoint (e.g. the one of",
                    "cluster-local) instead of running it in this process."})
    String address;

    @Option(names = "--job-jar", paramLabel = "JAR",
            description = {"With --cluster: the job jar to ship (default: job/target/specdec-job-*-flink.jar when built;",
                    "'none' when the TaskManagers have the classes, as cluster-local's do)."})
    String jobJar;

    public boolean remote() {
        return address != null;
    }

    /** Host and port of the REST endpoint. */
    public String[] hostAndPort() {
        return SessionJobs.hostAndPort(address);
    }

    /**
     * An environment on the session cluster: its settings, then the {@code cluster} flags the user
     * gave explicitly, then {@code extra} (settings this command needs whatever the cluster says).
     */
    public StreamExecutionEnvironment environment(ClusterOptions cluster, Configuration extra) throws Exception {
        String[] hp = hostAndPort();
        int port = Integer.parseInt(hp[1]);
        Configuration c = SessionJobs.clusterSettings(hp[0], port);
        ParseResult given = mixee.commandLine().getParseResult();
        if (given.hasMatchedOption("--checkpoint-interval")) {
            c.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, cluster.checkpointInterval);
        }
        if (given.hasMatchedOption("--checkpoint-dir")) {
            c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, cluster.checkpointDir.toAbsolutePath().toUri().toString());
        }
        if (given.hasMatchedOption("--parallelism")) {
            c.set(CoreOptions.DEFAULT_PARALLELISM, cluster.parallelism());
        }
        c.addAll(extra);
        StreamExecutionEnvironment env = SessionJobs.environment(hp[0], port, c, jars());
        env.setParallelism(c.get(CoreOptions.DEFAULT_PARALLELISM));
        return env;
    }

    private List<Path> jars() throws IOException {
        if ("none".equals(jobJar)) {
            return List.of();
        }
        if (jobJar != null) {
            return List.of(Path.of(jobJar));
        }
        Path target = Defaults.resolve("job/target");
        if (!Files.isDirectory(target)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(target)) {
            return files.filter(f -> f.getFileName().toString().matches("specdec-job-.*-flink\\.jar")).limit(1).toList();
        }
    }
}

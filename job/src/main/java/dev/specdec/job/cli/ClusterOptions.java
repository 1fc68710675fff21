package dev.specdec.job.cli;

import dev.specdec.job.pipeline.JobEnvironment;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Options of the in-process Flink cluster the commands start. */
public final class ClusterOptions {
    @Option(names = "--parallelism", defaultValue = "1",
            description = "Decode subtasks, each with its own model copy and engine thread (default ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(names = "--web-port", defaultValue = "8081",
            description = "Port of the Flink dashboard on 127.0.0.1; the next free port is used if it is taken (default ${DEFAULT-VALUE}).")
    int webPort;

    @Option(names = "--checkpoint-interval", defaultValue = "2s", converter = DurationConverter.class,
            description = "Checkpoint interval (default ${DEFAULT-VALUE}).")
    Duration checkpointInterval;

    @Option(names = "--checkpoint-dir",
            description = {"Checkpoint folder, kept after the process ends: a run started again on it resumes",
                    "from its newest checkpoint (default: a temporary folder)."})
    Path checkpointDir;

    @Option(names = "--restart-attempts", defaultValue = "-1",
            description = "Restarts in a row (exponential delay, 1 s to 1 min) before the job fails; -1 (default): no limit.")
    int restartAttempts;

    private int boundPort = -1;

    public int parallelism() {
        if (parallelism < 1) {
            throw new IllegalArgumentException("--parallelism must be at least 1");
        }
        return parallelism;
    }

    /**
     * The local cluster's configuration. With {@code --checkpoint-dir} the checkpoints outlive the
     * process and the job resumes from the newest one there; without it they go to a temporary folder.
     */
    public Configuration configuration(String purpose) throws IOException {
        if (checkpointDir != null) {
            return configuration(checkpointDir, true);
        }
        return build(TempDirs.create("specdec-" + purpose + "-checkpoints"));
    }

    /**
     * The local cluster's configuration with checkpoints kept in {@code dir} (the
     * {@code --checkpoint-dir} folder instead, when given), resuming from the newest one there if
     * {@code resume}.
     */
    public Configuration configuration(Path dir, boolean resume) throws IOException {
        Path folder = checkpointFolder(dir);
        Configuration conf = build(folder);
        LocalCheckpoints.keepIn(conf, folder, resume);
        return conf;
    }

    /** The {@code --checkpoint-dir} folder when given, else {@code dir}. */
    public Path checkpointFolder(Path dir) {
        return (checkpointDir != null ? checkpointDir : dir).toAbsolutePath();
    }

    private Configuration build(Path dir) throws IOException {
        Files.createDirectories(dir);
        Configuration conf = JobEnvironment.configuration(checkpointInterval, dir.toAbsolutePath().toUri().toString(),
                restartAttempts);
        return JobEnvironment.local(conf, parallelism(), webPort());
    }

    /** The dashboard port: the requested one, or the next free one after it. */
    public int webPort() throws IOException {
        if (boundPort > 0) {
            return boundPort;
        }
        for (int p = webPort; p < webPort + 20; p++) {
            try (ServerSocket s = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
                boundPort = p;
                return p;
            } catch (IOException taken) {
                // try the next one
            }
        }
        throw new IOException("ports " + webPort + "-" + (webPort + 19) + " are all in use (pass --web-port)");
    }
}

package dev.specdec.job.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One process of the local cluster: a Java main class in a JVM of its own, on this JVM's class path
 * (so every process runs the same Flink, Kafka, DJL and specdec classes), its output appended to a
 * log file. Stopping sends SIGTERM and waits (Flink and Kafka shut down cleanly on it); killing sends
 * SIGKILL, as a crash would.
 */
public final class ChildJvm {
    private final String name;
    private final Process process;
    private final Path log;

    private ChildJvm(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code mainClass} with {@code args}.
     *
     * @param jvmOptions memory settings and the like, e.g. -Xmx1g
     * @param logFile    where its standard output and error go (appended)
     */
    static ChildJvm start(String name, String mainClass, List<String> args, List<String> jvmOptions, Path logFile)
            throws IOException {
        Files.createDirectories(logFile.getParent());
        ProcessBuilder pb = processBuilder(mainClass, args, jvmOptions).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        return new ChildJvm(name, pb.start(), logFile);
    }

    /**
     * The command line of a JVM like this one running {@code mainClass}: the same class path, the
     * system properties bin/specdec sets, and an environment that keeps DJL offline.
     */
    public static ProcessBuilder processBuilder(String mainClass, List<String> args, List<String> jvmOptions) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-XX:+UseParallelGC");
        for (String inherited : List.of("specdec.home", "ai.djl.offline", "org.slf4j.simpleLogger.defaultLogLevel")) {
            String v = System.getProperty(inherited);
            if (v != null) {
                cmd.add("-D" + inherited + "=" + v);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().put("OPT_OUT_TRACKING", "true");
        return pb;
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    Path log() {
        return log;
    }

    /** SIGTERM, then SIGKILL if it has not ended within {@code seconds}. */
    void stop(int seconds) throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            kill();
        }
    }

    /** SIGKILL: the process gets no chance to clean up, as in a crash. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** The last lines of its log, for an error message. */
    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}

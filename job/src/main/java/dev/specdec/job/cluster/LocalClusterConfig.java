package dev.specdec.job.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code conf/config.yaml} of the local session cluster: everything on 127.0.0.1, one slot per
 * TaskManager, the job's state settings (heap state, exactly-once unaligned checkpoints kept on
 * cancel, compressed snapshots, checkpoints and savepoints in the state folder), exponential-delay
 * restarts, fast detection of a dead TaskManager, DJL loaded once per JVM (parent-first), and a
 * Prometheus endpoint per process on loopback.
 */
final class LocalClusterConfig {
    private LocalClusterConfig() {
    }

    /** The first Prometheus port; the JobManager takes it, TaskManagers the ones after it. */
    static final int PROMETHEUS_FIRST_PORT = 9249;

    static Map<String, String> settings(Path stateDir, int rpcPort, int webPort, Duration checkpointInterval) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("jobmanager.rpc.address", "127.0.0.1");
        c.put("jobmanager.rpc.port", Integer.toString(rpcPort));
        c.put("jobmanager.bind-host", "127.0.0.1");
        c.put("rest.address", "127.0.0.1");
        c.put("rest.bind-address", "127.0.0.1");
        c.put("rest.port", Integer.toString(webPort));
        c.put("taskmanager.host", "127.0.0.1");
        c.put("taskmanager.bind-host", "127.0.0.1");
        c.put("taskmanager.numberOfTaskSlots", "1");
        c.put("jobmanager.memory.process.size", "1024m");
        c.put("taskmanager.memory.process.size", "2048m");
        c.put("taskmanager.memory.managed.fraction", "0.05");
        c.put("web.submit.enable", "false");
        c.put("web.cancel.enable", "true");
        c.put("web.access-control-allow-origin", "http://127.0.0.1:" + webPort);
        // A native library loads once per JVM: DJL must not belong to a job's classloader.
        c.put("classloader.parent-first-patterns.additional", "ai.djl.;com.sun.jna.;com.google.gson.");
        c.put("state.backend.type", "hashmap");
        c.put("execution.checkpointing.storage", "filesystem");
        c.put("execution.checkpointing.dir", stateDir.resolve("checkpoints").toUri().toString());
        c.put("execution.checkpointing.savepoint-dir", stateDir.resolve("savepoints").toUri().toString());
        c.put("execution.checkpointing.interval", checkpointInterval.toMillis() + "ms");
        c.put("execution.checkpointing.mode", "EXACTLY_ONCE");
        c.put("execution.checkpointing.unaligned.enabled", "true");
        c.put("execution.checkpointing.snapshot-compression", "true");
        c.put("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        c.put("execution.checkpointing.tolerable-failed-checkpoints", "5");
        c.put("restart-strategy.type", "exponential-delay");
        c.put("restart-strategy.exponential-delay.initial-backoff", "1s");
        c.put("restart-strategy.exponential-delay.max-backoff", "1min");
        c.put("restart-strategy.exponential-delay.attempts-before-reset-backoff", Integer.toString(Integer.MAX_VALUE));
        // A TaskManager killed with SIGKILL is noticed within seconds, not the default 50.
        c.put("heartbeat.interval", "1000");
        c.put("heartbeat.timeout", "8000");
        c.put("pipeline.generic-types", "false");
        c.put("metrics.reporter.prom.factory.class", LoopbackPrometheusReporterFactory.class.getName());
        c.put("metrics.reporter.prom.port", PROMETHEUS_FIRST_PORT + "-" + (PROMETHEUS_FIRST_PORT + 40));
        return c;
    }

    /** Writes {@code settings} as {@code dir/config.yaml} (flat keys, every value quoted). */
    static Path write(Path dir, Map<String, String> settings) throws IOException {
        Files.createDirectories(dir);
        StringBuilder y = new StringBuilder("# Written by specdec cluster-local; rewritten at every start.\n");
        settings.forEach((k, v) -> y.append(k).append(": \"").append(v.replace("\\", "\\\\").replace("\"", "\\\""))
                .append("\"\n"));
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, y, StandardCharsets.UTF_8);
        return file;
    }
}

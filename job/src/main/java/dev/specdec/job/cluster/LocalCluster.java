package dev.specdec.job.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Flink session cluster on this machine as separate processes, as a real deployment runs it: a
 * Kafka broker (KRaft), a JobManager (Flink's standalone session entrypoint) and TaskManagers with
 * one slot each, all listening on 127.0.0.1. Like Kubernetes would, it starts a TaskManager again
 * when one dies. Process ids are kept in {@code pids.json} of the state folder.
 */
public final class LocalCluster implements AutoCloseable {
    static final String JOB_MANAGER_MAIN = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    static final String TASK_MANAGER_MAIN = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path stateDir;
    private final Path confDir;
    private Map<String, String> settings;
    private final int webPort;
    private final int kafkaPort;
    private final PrintStream log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<ChildJvm> taskManagers = new ArrayList<>();
    private ChildJvm kafka;
    private ChildJvm jobManager;
    private int started;
    private volatile boolean closing;
    private Thread watchdog;

    private LocalCluster(Path stateDir, int kafkaPort, int webPort, PrintStream log) {
        this.stateDir = stateDir;
        this.confDir = stateDir.resolve("flink").resolve("conf");
        this.kafkaPort = kafkaPort;
        this.webPort = webPort;
        this.log = log;
    }

    /**
     * Starts the broker, the JobManager and {@code taskManagers} TaskManagers, and waits until all
     * have registered.
     */
    public static LocalCluster start(Path stateDir, int taskManagers, int kafkaPort, int webPort, Duration checkpointInterval,
                                     PrintStream log) throws Exception {
        Path dir = stateDir.toAbsolutePath();
        LocalCluster c = new LocalCluster(dir, kafkaPort, webPort, log);
        try {
            c.settings = LocalClusterConfig.settings(dir, freePort(), webPort, checkpointInterval);
            LocalClusterConfig.write(c.confDir, c.settings);
            c.startKafka();
            c.jobManager = ChildJvm.start("jobmanager", JOB_MANAGER_MAIN, List.of("--configDir", c.confDir.toString(),
                    "-Dmetrics.reporter.prom.port=" + (LocalClusterConfig.PROMETHEUS_FIRST_PORT + 40) + "-"
                            + (LocalClusterConfig.PROMETHEUS_FIRST_PORT + 50)),
                    List.of("-Xmx768m"), c.logFile("jobmanager"));
            c.awaitRest();
            for (int i = 0; i < taskManagers; i++) {
                c.startTaskManager(i);
            }
            c.awaitTaskManagers(taskManagers);
            c.writePids();
            c.watchdog = new Thread(c::watch, "specdec-cluster-watchdog");
            c.watchdog.setDaemon(true);
            c.watchdog.start();
            return c;
        } catch (Exception e) {
            c.close();
            throw e;
        }
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + kafkaPort;
    }

    public int webPort() {
        return webPort;
    }

    public Path stateDir() {
        return stateDir;
    }

    /** Process ids of the TaskManagers, in slot order. */
    public synchronized List<Long> taskManagerPids() {
        return taskManagers.stream().map(ChildJvm::pid).toList();
    }

    /** Adds a TaskManager (one more slot) and waits until it has registered. */
    public void addTaskManager() throws Exception {
        int n;
        synchronized (this) {
            n = taskManagers.size();
            startTaskManager(n);
        }
        awaitTaskManagers(n + 1);
        writePids();
    }

    /** The Prometheus endpoint of TaskManager {@code index}. */
    public static URI prometheus(int index) {
        return URI.create("http://127.0.0.1:" + (LocalClusterConfig.PROMETHEUS_FIRST_PORT + index) + "/metrics");
    }

    private void startKafka() throws Exception {
        kafka = ChildJvm.start("kafka", "dev.specdec.cli.SpecdecMain", List.of("kafka-broker", "--port",
                Integer.toString(kafkaPort), "--data-dir", stateDir.resolve("kafka").toString()), List.of("-Xmx768m"), logFile("kafka"));
        awaitPort(kafka, kafkaPort);
    }

    /**
     * Starts TaskManager {@code index} with the JVM memory flags and derived memory settings that
     * Flink's start scripts compute (through BashJavaUtils) from {@code taskmanager.memory.process.size}.
     */
    private synchronized void startTaskManager(int index) throws IOException {
        TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(Configuration.fromMap(settings));
        List<String> args = new ArrayList<>(List.of("--configDir", confDir.toString(),
                "-Dtaskmanager.resource-id=taskmanager-" + index + "-" + (started++),
                "-Dmetrics.reporter.prom.port=" + (LocalClusterConfig.PROMETHEUS_FIRST_PORT + index)));
        args.addAll(List.of(TaskExecutorProcessUtils.generateDynamicConfigsStr(spec).trim().split("\\s+")));
        List<String> jvm = List.of(ProcessMemoryUtils.generateJvmParametersStr(spec).trim().split("\\s+"));
        ChildJvm tm = ChildJvm.start("taskmanager-" + index, TASK_MANAGER_MAIN, args, jvm, logFile("taskmanager-" + index));
        if (index < taskManagers.size()) {
            taskManagers.set(index, tm);
        } else {
            taskManagers.add(tm);
        }
    }

    /** Starts dead TaskManagers again, as a Kubernetes deployment would. */
    private void watch() {
        while (!closing) {
            try {
                Thread.sleep(500);
                synchronized (this) {
                    for (int i = 0; i < taskManagers.size() && !closing; i++) {
                        if (!taskManagers.get(i).alive()) {
                            log.println("specdec cluster-local: taskmanager-" + i + " (pid " + taskManagers.get(i).pid()
                                    + ") died; starting it again");
                            startTaskManager(i);
                        }
                    }
                }
                writePids();
            } catch (InterruptedException e) {
                return;
            } catch (IOException e) {
                log.println("specdec cluster-local: " + e.getMessage());
            }
        }
    }

    private synchronized void writePids() throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("jobmanager", jobManager.pid());
        var pids = o.putArray("taskmanagers");
        taskManagers.forEach(t -> pids.add(t.pid()));
        o.put("kafka", kafka.pid());
        Path tmp = stateDir.resolve("pids.json.tmp");
        Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o));
        Files.move(tmp, stateDir.resolve("pids.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private Path logFile(String name) {
        return stateDir.resolve("flink").resolve("log").resolve(name + ".log");
    }

    private void awaitRest() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            requireAlive(jobManager);
            try {
                overview();
                return;
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        throw new IOException("the JobManager's REST API did not answer within 2 minutes:\n" + jobManager.logTail());
    }

    private void awaitTaskManagers(int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            synchronized (this) {
                for (ChildJvm tm : taskManagers) {
                    requireAlive(tm);
                }
            }
            if (overview().path("taskmanagers").asInt() >= n) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IOException(n + " TaskManagers did not register within 2 minutes:\n" + taskManagers.get(0).logTail());
    }

    /** The JobManager's {@code /overview}: TaskManagers, slots, jobs. */
    public JsonNode overview() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + webPort + "/overview"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("HTTP " + r.statusCode());
        }
        return JSON.readTree(r.body());
    }

    private static void awaitPort(ChildJvm p, int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            requireAlive(p);
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        throw new IOException(p.name() + " did not listen on port " + port + " within 2 minutes:\n" + p.logTail());
    }

    private static void requireAlive(ChildJvm p) throws IOException {
        if (!p.alive()) {
            throw new IOException(p.name() + " ended while starting; its log (" + p.log() + "):\n" + p.logTail());
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Stops the TaskManagers, the JobManager and the broker, in that order. */
    @Override
    public void close() throws InterruptedException {
        closing = true;
        if (watchdog != null) {
            watchdog.interrupt();
            watchdog.join(5000);
        }
        synchronized (this) {
            for (ChildJvm tm : taskManagers) {
                tm.stop(30);
            }
        }
        if (jobManager != null) {
            jobManager.stop(30);
        }
        if (kafka != null) {
            kafka.stop(30);
        }
    }
}

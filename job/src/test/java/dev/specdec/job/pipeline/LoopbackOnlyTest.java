package dev.specdec.job.pipeline;

import dev.specdec.job.cli.LocalKafkaBroker;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.legacy.DiscardingSink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing a local run starts listens beyond loopback: with the local Kafka broker up and a job
 * running on the local cluster, every listening TCP socket of this process (read from /proc) is
 * bound to 127.0.0.1 or ::1; the dashboard refuses jar uploads and other web origins.
 */
class LoopbackOnlyTest {

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void everyListeningSocketIsLoopback(@TempDir Path tmp) throws Exception {
        int webPort = freePort();
        Configuration conf = JobEnvironment.local(JobEnvironment.configuration(Duration.ofSeconds(1),
                tmp.resolve("ckpt").toUri().toString(), 0), 1, webPort);
        try (LocalKafkaBroker broker = LocalKafkaBroker.start(0, tmp.resolve("kafka"))) {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
            env.fromSequence(0, Long.MAX_VALUE).map(x -> {
                Thread.sleep(5);
                return x;
            }, Types.LONG).addSink(new DiscardingSink<>());
            JobClient job = env.executeAsync("loopback check");
            try {
                waitForRest(webPort);
                List<String> listening = listeningSockets();
                assertFalse(listening.isEmpty(), "found this process's listening sockets");
                for (String address : listening) {
                    assertTrue(address.startsWith("127.") || address.equals("::1"), "listens on " + address
                            + " (all: " + listening + ")");
                }
                assertEquals(404, status(webPort, "POST", "/jars/upload", null), "no jar upload");
                String origin = header(webPort, "http://evil.example");
                assertNotEquals("*", origin, "no wildcard CORS origin");
            } finally {
                job.cancel().get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Addresses of this process's TCP sockets in LISTEN state (IPv4 dotted, IPv6 "::1" or hex). */
    static List<String> listeningSockets() throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException gone) {
                    // closed while listing
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path p = Path.of(table);
            if (!Files.exists(p)) {
                continue;
            }
            for (String line : Files.readAllLines(p).subList(1, Files.readAllLines(p).size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[3].equals("0A") && inodes.contains(f[9])) {
                    out.add(address(f[1].substring(0, f[1].indexOf(':'))));
                }
            }
        }
        return out;
    }

    private static String address(String hex) {
        if (hex.length() == 8) {
            long v = Long.parseLong(hex, 16);
            return (v & 0xFF) + "." + ((v >> 8) & 0xFF) + "." + ((v >> 16) & 0xFF) + "." + ((v >> 24) & 0xFF);
        }
        String h = hex.toUpperCase(Locale.ROOT);
        if (h.equals("00000000000000000000000001000000")) {
            return "::1";
        }
        if (h.startsWith("0000000000000000FFFF0000")) {
            return address(h.substring(24));      // IPv4-mapped
        }
        return h;
    }

    private static void waitForRest(int port) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                if (status(port, "GET", "/overview", null) == 200) {
                    Thread.sleep(1000);                 // the job's tasks are deploying their servers
                    return;
                }
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the local cluster's REST API did not answer");
    }

    private static int status(int port, String method, String path, String origin) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + path).toURL().openConnection();
        c.setRequestMethod(method);
        if (origin != null) {
            c.setRequestProperty("Origin", origin);
        }
        try {
            return c.getResponseCode();
        } finally {
            c.disconnect();
        }
    }

    private static String header(int port, String origin) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/overview").toURL().openConnection();
        c.setRequestProperty("Origin", origin);
        try {
            c.getResponseCode();
            return c.getHeaderField("Access-Control-Allow-Origin");
        } finally {
            c.disconnect();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}

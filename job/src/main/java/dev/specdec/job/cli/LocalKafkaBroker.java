package dev.specdec.job.cli;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) inside this JVM, for
 * trying the streaming job on one machine: writes a {@code server.properties}, formats the storage
 * the way {@code kafka-storage.sh format} does, starts the server and waits until it answers.
 * Listens on 127.0.0.1 only.
 */
public final class LocalKafkaBroker implements AutoCloseable {
    private final KafkaRaftServer server;
    private final String bootstrap;
    private final Path dataDir;
    private final boolean deleteOnClose;
    private final Map<String, String> clientProperties;
    private boolean closed;

    private LocalKafkaBroker(KafkaRaftServer server, String bootstrap, Path dataDir, boolean deleteOnClose,
                             Map<String, String> clientProperties) {
        this.server = server;
        this.bootstrap = bootstrap;
        this.dataDir = dataDir;
        this.deleteOnClose = deleteOnClose;
        this.clientProperties = clientProperties;
    }

    /** A user name and password for SASL/PLAIN logins. */
    public record PlainLogin(String user, String password) {
        public PlainLogin {
            if (user == null || user.isEmpty() || password == null || password.isEmpty()
                    || (user + password).matches(".*[\"\\\\;\\s].*")) {
                throw new IllegalArgumentException("a SASL/PLAIN login is USER:PASSWORD, neither empty nor with quotes,"
                        + " backslashes, semicolons or spaces");
            }
        }

        /** Parses {@code USER:PASSWORD}. */
        public static PlainLogin parse(String s) {
            int colon = s == null ? -1 : s.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("a SASL/PLAIN login is USER:PASSWORD");
            }
            return new PlainLogin(s.substring(0, colon), s.substring(colon + 1));
        }

        String jaas() {
            return "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + user
                    + "\" password=\"" + password + "\";";
        }

        /** The client settings that log in as this user over an unencrypted connection. */
        public Map<String, String> clientProperties() {
            return Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN", "sasl.jaas.config", jaas());
        }
    }

    /**
     * Starts a broker on {@code port} (0 = any free port) with its data in {@code dataDir} (null = a
     * temporary folder, deleted on close).
     */
    public static LocalKafkaBroker start(int port, Path dataDir) throws Exception {
        return start(port, dataDir, null);
    }

    /**
     * As {@link #start(int, Path)}, and with {@code login} non-null its clients must log in with
     * SASL/PLAIN as that user (a secured cluster's settings can be tried locally).
     */
    public static LocalKafkaBroker start(int port, Path dataDir, PlainLogin login) throws Exception {
        boolean temporary = dataDir == null;
        Path dir = temporary ? Files.createTempDirectory("specdec-kafka") : dataDir.toAbsolutePath();
        Files.createDirectories(dir);
        int brokerPort = port == 0 ? freePort() : port;
        int controllerPort = freePort();
        Properties props = serverProperties(dir, brokerPort, controllerPort);
        if (login != null) {
            requirePlainLogin(props, brokerPort, controllerPort, login);
        }
        Path file = dir.resolve("server.properties");
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            props.store(w, "specdec serve-local: single-node KRaft broker");
        }
        if (!Files.exists(dir.resolve("logs").resolve("meta.properties"))) {
            format(file);
        }
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        server.startup();
        LocalKafkaBroker broker = new LocalKafkaBroker(server, "127.0.0.1:" + brokerPort, dir, temporary,
                login == null ? Map.of() : login.clientProperties());
        try {
            broker.awaitReady();
        } catch (Exception e) {
            broker.close();
            throw e;
        }
        return broker;
    }

    static Properties serverProperties(Path dir, int brokerPort, int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
        p.put("log.dirs", dir.resolve("logs").toString());
        p.put("num.partitions", "1");
        // One broker: every internal topic has a single replica.
        p.put("offsets.topic.replication.factor", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        return p;
    }

    /** The client listener becomes SASL_PLAINTEXT with the PLAIN mechanism and one user (the broker logs in as it too). */
    private static void requirePlainLogin(Properties p, int brokerPort, int controllerPort, PlainLogin login) {
        p.put("listeners", "SASL_PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "SASL_PLAINTEXT://127.0.0.1:" + brokerPort);
        p.put("inter.broker.listener.name", "SASL_PLAINTEXT");
        p.put("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT");
        p.put("sasl.enabled.mechanisms", "PLAIN");
        p.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        p.put("listener.name.sasl_plaintext.plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + login.user()
                        + "\" password=\"" + login.password() + "\" user_" + login.user() + "=\"" + login.password() + "\";");
    }

    /** {@code kafka-storage.sh format -t <new cluster id> -c server.properties}, output kept quiet unless it fails. */
    private static void format(Path propertiesFile) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc;
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            rc = StorageTool.execute(new String[] {"format", "-t", Uuid.randomUuid().toString(), "-c",
                    propertiesFile.toString()}, out);
        }
        if (rc != 0) {
            throw new IOException("formatting the Kafka storage failed: " + buf.toString(StandardCharsets.UTF_8));
        }
    }

    private void awaitReady() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try (Admin admin = admin()) {
                admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                last = e;
                Thread.sleep(200);
            }
        }
        throw new IOException("the Kafka broker did not become ready within 60 s", last);
    }

    public String bootstrapServers() {
        return bootstrap;
    }

    /** What a client needs besides the bootstrap address: the SASL login, if the broker requires one. */
    public Map<String, String> clientProperties() {
        return clientProperties;
    }

    public Admin admin() {
        return admin(bootstrap, clientProperties);
    }

    private static Admin admin(String bootstrap, Map<String, String> client) {
        Map<String, Object> config = new java.util.HashMap<>(client);
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return Admin.create(config);
    }

    /** Creates the topics that do not exist yet. */
    public void createTopics(List<String> names, int partitions) throws Exception {
        createTopics(bootstrap, clientProperties, names, partitions);
    }

    /** Creates the topics that do not exist yet on the broker at {@code bootstrap}. */
    public static void createTopics(String bootstrap, Map<String, String> client, List<String> names, int partitions)
            throws Exception {
        try (Admin admin = admin(bootstrap, client)) {
            List<NewTopic> topics = new ArrayList<>();
            for (String n : names) {
                topics.add(new NewTopic(n, partitions, (short) 1));
            }
            for (var f : admin.createTopics(topics).values().values()) {
                try {
                    f.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        }
    }

    /** Stops the broker (and deletes a temporary data folder); safe to call more than once. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.shutdown();
        server.awaitShutdown();
        if (deleteOnClose) {
            TempDirs.delete(dataDir);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}

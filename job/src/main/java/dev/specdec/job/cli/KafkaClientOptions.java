package dev.specdec.job.cli;

import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Kafka client settings a secured cluster needs (TLS, SASL, client timeouts), given to every Kafka
 * client a command makes: the job's source and sinks, {@code submit}'s producer, {@code tail}'s
 * consumer. Settings the commands own (where to connect, how records are encoded, the consumer
 * group, transactions, read_committed) cannot be overridden here, so that a stray setting cannot
 * quietly turn exactly-once off.
 */
public final class KafkaClientOptions {
    /** Keys set by the commands themselves, each with the flag or rule that owns it. */
    static final Map<String, String> OWNED = Map.of(
            "bootstrap.servers", "pass --bootstrap-servers",
            "key.serializer", "records are Avro bytes",
            "value.serializer", "records are Avro bytes",
            "key.deserializer", "records are Avro bytes",
            "value.deserializer", "records are Avro bytes",
            "group.id", "pass --group-id",
            "transactional.id", "pass --transactional-id-prefix",
            "isolation.level", "the job reads only committed records",
            "enable.auto.commit", "offsets are committed at checkpoints");

    @Option(names = "--kafka-property", paramLabel = "KEY=VALUE",
            description = {"A Kafka client setting (repeatable), e.g. security.protocol=SASL_SSL; overrides",
                    "--kafka-config."})
    Map<String, String> properties = new LinkedHashMap<>();

    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "A Java properties file of Kafka client settings (security.protocol, sasl.*, ssl.*, ...).")
    Path configFile;

    /** The settings of the config file, then the flags over them; refuses keys the commands own. */
    public Map<String, String> properties() throws IOException {
        Map<String, String> out = new TreeMap<>();
        if (configFile != null) {
            if (!Files.isRegularFile(configFile)) {
                throw new IllegalArgumentException("--kafka-config " + configFile + " is not a file");
            }
            Properties file = new Properties();
            try (Reader r = Files.newBufferedReader(configFile, StandardCharsets.UTF_8)) {
                file.load(r);
            }
            for (String k : file.stringPropertyNames()) {
                out.put(k.trim(), file.getProperty(k).trim());
            }
        }
        if (properties != null) {
            properties.forEach((k, v) -> out.put(k.trim(), v));
        }
        for (String k : out.keySet()) {
            check(k);
        }
        return out;
    }

    private static void check(String key) {
        if (key.isEmpty()) {
            throw new IllegalArgumentException("a Kafka client setting needs a key (KEY=VALUE)");
        }
        String why = OWNED.get(key);
        if (why != null) {
            throw new IllegalArgumentException("the Kafka setting " + key + " is set by specdec (" + why + ")");
        }
    }
}

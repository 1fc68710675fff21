package dev.specdec.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.job.decode.DecodeSettings;
import dev.specdec.job.pipeline.JobEnvironment;
import dev.specdec.job.pipeline.KafkaEndpoint;
import dev.specdec.job.pipeline.StreamingJob;
import dev.specdec.job.records.RequestJson;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A broker that takes only SASL/PLAIN logins (serve-local's {@code --sasl-plain}, the real broker
 * code): the job's source and exactly-once sinks, {@code submit} and {@code tail} reach it with the
 * settings of {@code --kafka-config} and {@code --kafka-property}; without them they cannot.
 */
class SecuredKafkaTest {
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void jobSubmitAndTailLogInToABrokerThatRequiresSaslPlain(@TempDir Path tmp) throws Exception {
        Path model = TinyModel.create(tmp.resolve("model"));
        LocalKafkaBroker.PlainLogin login = LocalKafkaBroker.PlainLogin.parse("alice:alice-secret");
        try (LocalKafkaBroker broker = LocalKafkaBroker.start(0, tmp.resolve("kafka"), login)) {
            String b = broker.bootstrapServers();
            broker.createTopics(List.of("prompts", "results", "dead-letters"), 1);
            KafkaEndpoint endpoint = new KafkaEndpoint(b, "prompts", "results", "dead-letters", "g", "t",
                    Duration.ofMinutes(5), null, login.clientProperties());
            assertFalse(endpoint.toString().contains("alice-secret"), endpoint.toString());
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1,
                    JobEnvironment.configuration(Duration.ofMillis(300), tmp.resolve("ckpt").toUri().toString(), 0));
            StreamingJob.attach(env, endpoint, DecodeSettings.builder().model(model.toString()).maxBatch(2).build(),
                    RequestJson.STANDARD_DEFAULTS, 1);
            JobClient job = env.executeAsync("secured");
            try {
                Path config = tmp.resolve("client.properties");
                Properties p = new Properties();
                p.putAll(login.clientProperties());
                try (Writer w = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
                    p.store(w, null);
                }
                var refused = KafkaCommandsTest.run(null, "submit", "--bootstrap-servers", b, "--prompt", "x",
                        "--kafka-property", "max.block.ms=3000");
                assertNotEquals(0, refused.code(), "a client without the login reached the broker");

                var sent = KafkaCommandsTest.run(null, "submit", "--bootstrap-servers", b, "--kafka-config", config.toString(),
                        "--prompt", "And God said", "--id", "s1", "--max-new-tokens", "5");
                assertEquals(0, sent.code());
                var tail = KafkaCommandsTest.run(null, "tail", "--bootstrap-servers", b,
                        "--kafka-property", "security.protocol=SASL_PLAINTEXT", "--kafka-property", "sasl.mechanism=PLAIN",
                        "--kafka-property", "sasl.jaas.config=" + login.clientProperties().get("sasl.jaas.config"),
                        "--count", "1", "--timeout", "120s");
                assertEquals(0, tail.code(), tail.out());
                JsonNode r = KafkaCommandsTest.JSON.readTree(tail.out().lines().findFirst().orElseThrow());
                assertEquals("s1", r.get("request_id").asText());
                assertEquals(5, r.get("token_ids").size(), r.toString());
            } finally {
                job.cancel().get(1, TimeUnit.MINUTES);
            }
        }
    }

    @Test
    void clientSettingsComeFromTheFileThenTheFlagsAndCannotTakeOverWhatSpecdecOwns(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("c.properties");
        Files.writeString(file, "security.protocol=SSL\nssl.truststore.location=/a\n", StandardCharsets.UTF_8);
        KafkaClientOptions o = parse("--kafka-config", file.toString(), "--kafka-property", "ssl.truststore.location=/b");
        assertEquals(Map.of("security.protocol", "SSL", "ssl.truststore.location", "/b"), o.properties());
        for (String owned : List.of("bootstrap.servers=x", "isolation.level=read_uncommitted", "group.id=g",
                "transactional.id=t", "enable.auto.commit=true")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> parse("--kafka-property", owned).properties());
            assertTrue(e.getMessage().contains("set by specdec"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> parse("--kafka-config", tmp.resolve("none").toString()).properties());
        assertThrows(IllegalArgumentException.class, () -> LocalKafkaBroker.PlainLogin.parse("alice"));
        assertThrows(IllegalArgumentException.class, () -> LocalKafkaBroker.PlainLogin.parse("al\"ice:x"));
    }

    private static KafkaClientOptions parse(String... args) {
        @CommandLine.Command(name = "t")
        class Holder {
            @CommandLine.Mixin
            KafkaClientOptions client;
        }
        Holder h = new Holder();
        new CommandLine(h).parseArgs(args);
        return h.client;
    }
}

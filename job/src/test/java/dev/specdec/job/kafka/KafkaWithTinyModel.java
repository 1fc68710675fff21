package dev.specdec.job.kafka;

import dev.specdec.engine.testing.TinyModel;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The fixture of the Kafka pipeline tests: one in-process broker and one tiny model for a whole test
 * class ({@code @RegisterExtension static final KafkaWithTinyModel kafka = new KafkaWithTinyModel();}),
 * started before its first test and removed after its last. The broker's calls are {@link KafkaTestCluster}'s.
 */
public final class KafkaWithTinyModel implements BeforeAllCallback, AfterAllCallback {
    private Path dir;
    private Path model;
    private KafkaTestCluster cluster;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory("specdec-kafka-test");
        model = TinyModel.create(dir.resolve("model"));
        cluster = KafkaTestCluster.start();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The tiny model's folder. */
    public Path model() {
        return model;
    }

    public String bootstrap() {
        return cluster.bootstrap();
    }

    public void createTopics(int partitions, String... names) throws Exception {
        cluster.createTopics(partitions, names);
    }

    public void send(String topic, List<Map.Entry<String, byte[]>> records) throws Exception {
        cluster.send(topic, records);
    }

    public List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic, Predicate<List<ConsumerRecord<byte[], byte[]>>> done,
                                                              Duration timeout, Duration settle) {
        return cluster.readCommitted(topic, done, timeout, settle);
    }
}

package dev.specdec.job.pipeline;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The streaming job's Kafka settings are checked before a job is built from them. */
class KafkaEndpointTest {
    static KafkaEndpoint valid() {
        return new KafkaEndpoint("k:9092", "prompts", "results", "dead", "g", "t", Duration.ofMinutes(10));
    }

    private static String rejected(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void namesWhatIsWrong() {
        assertNull(valid().chunkTopic());
        assertTrue(rejected(() -> new KafkaEndpoint("", "p", "r", null, "g", "t", Duration.ofMinutes(1)))
                .contains("bootstrap servers"));
        assertTrue(rejected(() -> new KafkaEndpoint("k:1", "p", "p", null, "g", "t", Duration.ofMinutes(1)))
                .contains("must differ"));
        assertTrue(rejected(() -> new KafkaEndpoint("k:1", "p", "r", null, "g", "t", Duration.ofMinutes(16)))
                .contains("transaction.max.timeout.ms"));
        assertTrue(rejected(() -> new KafkaEndpoint("k:1", "p", "r", null, "g", "t", Duration.ZERO))
                .contains("must be positive"));
    }

    @Test
    void theChunkTopicIsATopicOfItsOwn() {
        assertEquals("chunks", valid().withChunkTopic("chunks").chunkTopic());
        assertNull(valid().withChunkTopic("chunks").withChunkTopic(null).chunkTopic());
        for (String clash : new String[] {"prompts", "results", "dead", " "}) {
            assertTrue(rejected(() -> valid().withChunkTopic(clash)).contains("chunk topic"), clash);
        }
    }
}

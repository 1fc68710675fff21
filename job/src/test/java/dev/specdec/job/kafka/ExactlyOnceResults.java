package dev.specdec.job.kafka;

import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.job.records.OutputRecords;
import dev.specdec.records.GenerationResult;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The check every failure test ends with: each request answered exactly once, with plain decoding's tokens. */
public final class ExactlyOnceResults {
    private ExactlyOnceResults() {
    }

    /**
     * Requires exactly one result per prompt id among {@code records}, none an error, each with the
     * tokens {@link TinyModel#reference} decodes; returns how many continued from saved state
     * ({@code recoveries > 0}).
     */
    public static int check(List<ConsumerRecord<byte[], byte[]>> records, Path model, Map<String, String> prompts,
                            SamplingParams params) throws Exception {
        Map<String, GenerationResult> byId = new HashMap<>();
        int resumed = 0;
        for (ConsumerRecord<byte[], byte[]> r : records) {
            GenerationResult res = OutputRecords.readResult(r);
            assertNull(byId.put(res.getRequestId(), res), "a second result for " + res.getRequestId());
            resumed += res.getRecoveries() > 0 ? 1 : 0;
        }
        assertEquals(prompts.keySet(), byId.keySet());
        Map<String, int[]> expected = TinyModel.reference(model, prompts, params);
        for (String id : prompts.keySet()) {
            assertNull(byId.get(id).getError(), id);
            assertArrayEquals(expected.get(id), byId.get(id).getTokenIds().stream().mapToInt(Integer::intValue).toArray(),
                    "tokens of " + id);
        }
        return resumed;
    }
}

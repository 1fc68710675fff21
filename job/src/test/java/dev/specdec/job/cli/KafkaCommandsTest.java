package dev.specdec.job.cli;

import dev.specdec.job.records.RequestJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.specdec.cli.SpecdecMain;
import dev.specdec.engine.cli.EngineMain;
import dev.specdec.engine.testing.TinyModel;
import dev.specdec.job.decode.DecodeSettings;
import dev.specdec.job.pipeline.JobEnvironment;
import dev.specdec.job.pipeline.KafkaEndpoint;
import dev.specdec.job.pipeline.StreamingJob;
import dev.specdec.engine.request.SamplingParams;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kafka commands against serve-local's broker: the in-process KRaft broker starts from a
 * formatted {@code server.properties}; {@code submit} sends a prompt, standard-input lines and a
 * cancellation; the streaming job answers; {@code tail} prints the results as JSON lines and exits
 * after {@code --count}, or fails after {@code --timeout}.
 */
class KafkaCommandsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    record Run(int code, String out) {
    }

    static synchronized Run run(String stdin, String... args) {
        PrintStream oldOut = System.out;
        InputStream oldIn = System.in;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            if (stdin != null) {
                System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            }
            int code = EngineMain.execute(new CommandLine(new SpecdecMain()), args);
            return new Run(code, buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setIn(oldIn);
        }
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void submitAndTailThroughTheLocalBroker(@TempDir Path tmp) throws Exception {
        Path model = TinyModel.create(tmp.resolve("model"));
        try (LocalKafkaBroker broker = LocalKafkaBroker.start(0, tmp.resolve("kafka"))) {
            String b = broker.bootstrapServers();
            broker.createTopics(List.of("prompts", "results", "dead-letters", "chunks"), 1);
            KafkaEndpoint endpoint = new KafkaEndpoint(b, "prompts", "results", "dead-letters", "g", "t",
                    Duration.ofMinutes(5), "chunks");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1,
                    JobEnvironment.configuration(Duration.ofMillis(300), tmp.resolve("ckpt").toUri().toString(), 0));
            StreamingJob.attach(env, endpoint, DecodeSettings.builder().model(model.toString()).maxBatch(2).build(),
                    RequestJson.STANDARD_DEFAULTS, 1);
            JobClient job = env.executeAsync("commands");
            try {
                Run one = run(null, "submit", "--bootstrap-servers", b, "--prompt", "And God said", "--id", "cli-1",
                        "--max-new-tokens", "7");
                assertEquals(0, one.code());
                assertEquals("cli-1", one.out().trim());
                Run many = run("The quick brown fox\n\n{\"id\":\"cli-json\",\"prompt\":\"In the beginning\",\"max_new_tokens\":3}\n",
                        "submit", "--bootstrap-servers", b, "-", "--max-new-tokens", "5");
                assertEquals(0, many.code());
                List<String> ids = many.out().lines().toList();
                assertEquals(2, ids.size(), many.out());
                assertEquals("cli-json", ids.get(1));
                assertEquals(0, run(null, "submit", "--bootstrap-servers", b, "--cancel", "nobody").code());

                Run tail = run(null, "tail", "--bootstrap-servers", b, "--count", "3", "--timeout", "120s");
                assertEquals(0, tail.code(), tail.out());
                List<JsonNode> results = new ArrayList<>();
                for (String line : tail.out().lines().toList()) {
                    results.add(JSON.readTree(line));
                }
                assertEquals(3, results.size(), tail.out());
                for (JsonNode r : results) {
                    String id = r.get("request_id").asText();
                    int n = r.get("token_ids").size();
                    assertEquals(id.equals("cli-1") ? 7 : id.equals("cli-json") ? 3 : 5, n, r.toString());
                }
                // The same three requests as partial output: their chunks add up to the results' tokens.
                Run chunks = run(null, "tail", "--bootstrap-servers", b, "--chunks", "--count", "3", "--timeout", "60s");
                assertEquals(0, chunks.code(), chunks.out());
                java.util.Map<String, Integer> streamed = new java.util.HashMap<>();
                java.util.Map<String, Integer> lasts = new java.util.HashMap<>();
                for (String line : chunks.out().lines().toList()) {
                    JsonNode c = JSON.readTree(line);
                    streamed.merge(c.get("request_id").asText(), c.get("token_ids").size(), Integer::sum);
                    lasts.merge(c.get("request_id").asText(), c.get("last").asBoolean() ? 1 : 0, Integer::sum);
                }
                for (JsonNode r : results) {
                    String id = r.get("request_id").asText();
                    assertEquals(r.get("token_ids").size(), streamed.get(id), "streamed tokens of " + id);
                    assertEquals(1, lasts.get(id), "last chunks of " + id);
                }
                Run filtered = run(null, "tail", "--bootstrap-servers", b, "--ids", "cli-json", "--count", "1", "--timeout", "60s");
                assertTrue(filtered.out().contains("\"cli-json\""), filtered.out());
                Run none = run(null, "tail", "--bootstrap-servers", b, "--ids", "never", "--count", "1", "--timeout", "2s");
                assertEquals(1, none.code());
            } finally {
                job.cancel().get(1, TimeUnit.MINUTES);
            }
        }
    }
}

package dev.specdec.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.specdec.engine.testing.NodePackages;
import dev.specdec.job.kafka.KafkaTestCluster;
import dev.specdec.job.records.OutputRecords;
import dev.specdec.records.FinishReason;
import dev.specdec.records.GenerationResult;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official openai npm client against {@code serve-local --gateway-port}: completions and chat,
 * whole and streamed, a stop string, invalid calls, and clients that go away. Every text the client
 * gets must equal the job's own committed result for the same request id, read from the results
 * topic; every client that went away must have its request cancelled in the job. The job writes
 * JSON outputs here ({@code --output-format json}), so the gateway's reader is tested on both formats
 * (GatewayRefusalsTest answers a call from an Avro result).
 */
class OpenAiGatewayTest {
    private static final Path CLIENT = Path.of("src/test/node/openai-client").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void theOpenAiClientGetsTheJobsResults() throws Exception {
        NodePackages.ensureInstalled(CLIENT);
        int broker = LocalKafkaBroker.freePort();
        int api = LocalKafkaBroker.freePort();
        String bootstrap = "127.0.0.1:" + broker;
        try (CommandProcess serve = CommandProcess.start("serve-local", "--port", Integer.toString(broker),
                "--web-port", Integer.toString(LocalKafkaBroker.freePort()), "--gateway-port", Integer.toString(api),
                "--plain-chat-fallback", "--api-key", "test-key", "--checkpoint-interval", "500ms",
                "--output-format", "json")) {
            serve.awaitLine("openai:", Duration.ofMinutes(3));
            Map<String, JsonNode> cases = runClient("http://127.0.0.1:" + api + "/v1", "kjv-llama-12m", "test-key");
            Map<String, GenerationResult> results = results(bootstrap, cases);

            assertEquals("[\"kjv-llama-12m\"]", cases.get("models").get("ids").toString());
            assertEquals("kjv-llama-12m", cases.get("models").get("retrieved").asText());
            for (String name : List.of("completion", "chat", "chat_stream", "completion_stream", "stop")) {
                JsonNode c = cases.get(name);
                GenerationResult r = results.get(c.get("id").asText());
                assertNotNull(r, name + ": no result for " + c.get("id"));
                assertEquals(r.getText().toString(), c.get("text").asText(), name + ": text differs from the job's result");
                assertEquals(r.getFinishReason() == FinishReason.LENGTH ? "length" : "stop",
                        c.get("finish_reason").asText(), name);
            }
            assertEquals(24, results.get(cases.get("completion").get("id").asText()).getUsage().getCompletionTokens());
            assertEquals(cases.get("completion").get("text"), cases.get("completion_stream").get("text"),
                    "greedy streamed and whole completions differ");
            assertTrue(cases.get("chat_stream").get("events").asInt() > 2, "the chat was not streamed in pieces");
            GenerationResult streamedChat = results.get(cases.get("chat_stream").get("id").asText());
            assertEquals(streamedChat.getUsage().getCompletionTokens(),
                    cases.get("chat_stream").get("usage").get("completion_tokens").asInt(), "stream_options.include_usage");
            assertEquals("stop", cases.get("stop").get("finish_reason").asText());
            assertTrue(!cases.get("stop").get("text").asText().contains(":"), "the stop string was not cut");

            assertEquals(16, cases.get("concurrent").get("calls").size());
            for (JsonNode call : cases.get("concurrent").get("calls")) {
                GenerationResult r = results.get(call.get("id").asText());
                assertNotNull(r, "no result for concurrent call " + call.get("id"));
                assertEquals(r.getText().toString(), call.get("text").asText(), "concurrent call " + call.get("id"));
            }
            assertError(cases.get("invalid_n"), 400, "n");
            assertError(cases.get("invalid_temperature"), 400, "temperature");
            assertError(cases.get("unknown_model"), 404, "model");
            assertEquals(400, cases.get("job_refusal").get("status").asInt(), cases.get("job_refusal").toString());
            assertTrue(cases.get("job_refusal").get("message").asText().contains("context"), cases.get("job_refusal").toString());

            GenerationResult aborted = results.get(cases.get("stream_disconnect").get("id").asText());
            assertEquals(FinishReason.CANCELLED, aborted.getFinishReason(), "a stream whose client left was not cancelled");
            assertTrue(aborted.getUsage().getCompletionTokens() < 400);
            assertEquals("APIConnectionTimeoutError", cases.get("wait_disconnect").get("name").asText());
            assertTrue(results.values().stream().anyMatch(r -> r.getFinishReason() == FinishReason.CANCELLED
                            && r.getRequestId().toString().startsWith("cmpl-") && r.getUsage().getCompletionTokens() < 400
                            && !r.getRequestId().toString().equals(aborted.getRequestId().toString())),
                    "a client that stopped waiting for a whole answer did not get its request cancelled");
        }
    }

    private static void assertError(JsonNode c, int status, String param) {
        assertEquals(status, c.get("status").asInt(), c.toString());
        assertEquals(param, c.get("param").asText(), c.toString());
        assertEquals("invalid_request_error", c.get("type").asText(), c.toString());
    }

    private static Map<String, JsonNode> runClient(String baseUrl, String model, String key) throws Exception {
        Process p = NodePackages.node(CLIENT, "check-gateway.mjs", baseUrl, model, key);
        Map<String, JsonNode> cases = new HashMap<>();
        StringBuilder all = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                all.append(line).append('\n');
                if (line.startsWith("{\"case\"")) {
                    JsonNode j = JSON.readTree(line);
                    cases.put(j.get("case").asText(), j);
                }
            }
        }
        assertTrue(p.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), "the openai client script failed:\n" + all);
        assertEquals(13, cases.size(), "cases: " + all);
        return cases;
    }

    /** The job's committed results, once the client's 24 requests have theirs (21 answers, a refusal, two cancellations). */
    private static Map<String, GenerationResult> results(String bootstrap, Map<String, JsonNode> cases) throws Exception {
        List<ConsumerRecord<byte[], byte[]>> records = KafkaTestCluster.readCommitted(bootstrap, Map.of(), "results",
                l -> l.size() >= 24, Duration.ofMinutes(2), Duration.ofSeconds(3));
        Map<String, GenerationResult> out = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            GenerationResult g = OutputRecords.readResult(r);
            out.put(g.getRequestId().toString(), g);
        }
        return out;
    }
}

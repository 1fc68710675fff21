package dev.specdec.job.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.specdec.job.cli.LocalKafkaBroker;
import dev.specdec.job.kafka.KafkaTestCluster;
import dev.specdec.job.records.RecordCodec;
import dev.specdec.records.FinishReason;
import dev.specdec.records.GenerationRequest;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.SpeculativeStats;
import dev.specdec.records.Timings;
import dev.specdec.records.Usage;
import dev.specdec.records.RequestAction;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway against a real broker where no job runs: a result record put on the results topic by
 * hand answers its call (Avro, found by its first byte, without headers); and what the gateway
 * answers without the job's help: a full
 * pending table (429), a job that does not answer (503, and a cancellation on the requests topic),
 * a missing API key (401), bad JSON, unknown routes, oversized bodies and streaming without a chunk
 * topic (400s with OpenAI-style error bodies).
 */
class GatewayRefusalsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static LocalKafkaBroker broker;
    private static OpenAiGateway gateway;
    private static OpenAiGateway withoutChunks;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        broker = LocalKafkaBroker.start(0, null);
        broker.createTopics(List.of("prompts", "results", "chunks"), 1);
        gateway = OpenAiGateway.start(settings(1, "chunks", Duration.ofSeconds(2)));
        withoutChunks = OpenAiGateway.start(settings(8, null, Duration.ofSeconds(60)));
        assertTrue(gateway.awaitReady(60_000) && withoutChunks.awaitReady(60_000));
    }

    private static GatewaySettings settings(int maxPending, String chunks, Duration answerTimeout) {
        return new GatewaySettings("127.0.0.1", 0, "m", maxPending, answerTimeout, 16, false, "k",
                broker.bootstrapServers(), "prompts", "results", chunks, Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        withoutChunks.close();
        broker.close();
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aFullTableIs429AndASilentJobIs503WithTheRequestCancelled() throws Exception {
        CompletableFuture<HttpResponse<String>> first = http.sendAsync(post(gateway, "/v1/completions",
                "{\"model\":\"m\",\"prompt\":\"hello\"}", "k"), HttpResponse.BodyHandlers.ofString());
        awaitPending(1);
        HttpResponse<String> second = send(post(gateway, "/v1/completions", "{\"model\":\"m\",\"prompt\":\"x\"}", "k"));
        assertEquals(429, second.statusCode(), second.body());
        assertEquals("1", second.headers().firstValue("retry-after").orElse(""));
        assertEquals("rate_limit_exceeded", error(second).get("type").asText());

        HttpResponse<String> answer = first.get(30, TimeUnit.SECONDS);
        assertEquals(503, answer.statusCode(), answer.body());
        assertEquals("job_not_answering", error(answer).get("code").asText());
        String id = answer.headers().firstValue("x-request-id").orElseThrow();

        RecordCodec<GenerationRequest> codec = RecordCodec.requests();
        List<ConsumerRecord<byte[], byte[]>> sent = KafkaTestCluster.readCommitted(broker.bootstrapServers(), Map.of(),
                "prompts", l -> l.size() >= 2, Duration.ofSeconds(30), Duration.ofMillis(500));
        List<RequestAction> actions = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : sent) {
            GenerationRequest g = codec.decode(r.value());
            if (g.getRequestId().toString().equals(id)) {
                actions.add(g.getAction());
            }
        }
        assertEquals(List.of(RequestAction.GENERATE, RequestAction.CANCEL), actions);
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void anAvroResultOnTheResultsTopicAnswersItsCall() throws Exception {
        CompletableFuture<HttpResponse<String>> call = http.sendAsync(post(withoutChunks, "/v1/chat/completions",
                "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "k"),
                HttpResponse.BodyHandlers.ofString());
        RecordCodec<GenerationRequest> requests = RecordCodec.requests();
        List<ConsumerRecord<byte[], byte[]>> sent = KafkaTestCluster.readCommitted(broker.bootstrapServers(), Map.of(),
                "prompts", l -> l.stream().anyMatch(r -> new String(r.key()).startsWith("chatcmpl-")),
                Duration.ofSeconds(30), Duration.ZERO);
        String id = null;
        for (ConsumerRecord<byte[], byte[]> r : sent) {
            GenerationRequest g = requests.decode(r.value());
            if (g.getRequestId().toString().startsWith("chatcmpl-")) {
                id = g.getRequestId().toString();
                assertEquals(16, g.getMaxNewTokens(), "chat's default max_tokens");
                assertEquals(1.0, g.getTemperature(), "OpenAI's default temperature");
            }
        }
        GenerationResult result = GenerationResult.newBuilder().setRequestId(id).setText("Let there be light")
                .setTokenIds(List.of(1, 2, 3)).setFinishReason(FinishReason.STOP).setUsage(new Usage(5, 3))
                .setSpeculative(SpeculativeStats.newBuilder().build()).setTimings(Timings.newBuilder().build()).build();
        KafkaTestCluster.send(broker.bootstrapServers(), Map.of(), "results",
                List.of(Map.entry(id, RecordCodec.results().encode(result))));

        HttpResponse<String> answer = call.get(30, TimeUnit.SECONDS);
        assertEquals(200, answer.statusCode(), answer.body());
        JsonNode body = JSON.readTree(answer.body());
        assertEquals(id, body.get("id").asText());
        assertEquals("chat.completion", body.get("object").asText());
        assertEquals("Let there be light", body.get("choices").get(0).get("message").get("content").asText());
        assertEquals("stop", body.get("choices").get(0).get("finish_reason").asText());
        assertEquals(8, body.get("usage").get("total_tokens").asInt());
    }

    @Test
    void refusalsCarryOpenAiErrorBodies() throws Exception {
        assertEquals(401, send(post(gateway, "/v1/completions", "{\"model\":\"m\",\"prompt\":\"x\"}", "wrong")).statusCode());
        HttpResponse<String> badJson = send(post(gateway, "/v1/chat/completions", "{\"model\":", "k"));
        assertEquals(400, badJson.statusCode());
        assertEquals("invalid_request_error", error(badJson).get("type").asText());
        assertEquals(404, send(post(gateway, "/v1/embeddings", "{}", "k")).statusCode());
        HttpResponse<String> huge = send(post(gateway, "/v1/completions",
                "{\"model\":\"m\",\"prompt\":\"" + "a".repeat(OpenAiRoutes.MAX_BODY_BYTES) + "\"}", "k"));
        assertEquals(413, huge.statusCode());
        HttpResponse<String> stream = send(post(withoutChunks, "/v1/completions",
                "{\"model\":\"m\",\"prompt\":\"x\",\"stream\":true}", "k"));
        assertEquals(400, stream.statusCode());
        assertEquals("stream", error(stream).get("param").asText());
        HttpResponse<String> tools = send(post(withoutChunks, "/v1/chat/completions",
                "{\"model\":\"m\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}", "k"));
        assertEquals(400, tools.statusCode());
        assertEquals("messages[0].role", error(tools).get("param").asText());
        HttpResponse<String> toolChoice = send(post(withoutChunks, "/v1/chat/completions",
                "{\"model\":\"m\",\"tool_choice\":\"required\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "k"));
        assertEquals("tool_choice", error(toolChoice).get("param").asText());
        HttpResponse<String> model = send(HttpRequest.newBuilder(uri(gateway, "/v1/models/m"))
                .header("Authorization", "Bearer k").build());
        assertEquals("m", JSON.readTree(model.body()).get("id").asText());
        assertEquals(404, send(HttpRequest.newBuilder(uri(gateway, "/v1/models/other"))
                .header("Authorization", "Bearer k").build()).statusCode());
        HttpResponse<String> health = send(HttpRequest.newBuilder(uri(gateway, "/health")).build());
        assertEquals(200, health.statusCode());
    }

    /** The first call is admitted on Jetty's thread: wait until the table holds it. */
    private void awaitPending(int n) throws Exception {
        for (int i = 0; i < 200; i++) {
            HttpResponse<String> health = send(HttpRequest.newBuilder(uri(gateway, "/health")).build());
            if (JSON.readTree(health.body()).get("pending").asInt() >= n) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the first call was never admitted");
    }

    private HttpResponse<String> send(HttpRequest r) throws Exception {
        return http.send(r, HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest post(OpenAiGateway g, String path, String body, String key) {
        return HttpRequest.newBuilder(uri(g, path)).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + key).POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static URI uri(OpenAiGateway g, String path) {
        return URI.create("http://127.0.0.1:" + g.port() + path);
    }

    private static JsonNode error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).get("error");
    }
}

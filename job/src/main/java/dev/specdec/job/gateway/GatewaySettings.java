package dev.specdec.job.gateway;

import java.time.Duration;
import java.util.Map;

/**
 * What the gateway needs: where it listens, the model name it answers to, its limits, and the job's
 * topics on Kafka ({@code chunksTopic} null = the job streams no partial output, so calls with
 * {@code stream: true} are refused).
 */
public record GatewaySettings(String host, int port, String servedModel, int maxPending, Duration answerTimeout,
                              int chatDefaultMaxTokens, boolean plainChatFallback, String apiKey,
                              String bootstrapServers, String requestsTopic, String resultsTopic, String chunksTopic,
                              Map<String, String> kafkaClientProperties) {
    public GatewaySettings {
        if (maxPending < 1) {
            throw new IllegalArgumentException("--max-pending must be at least 1, got " + maxPending);
        }
        if (answerTimeout.isNegative() || answerTimeout.isZero()) {
            throw new IllegalArgumentException("--answer-timeout must be positive");
        }
        if (chatDefaultMaxTokens < 1) {
            throw new IllegalArgumentException("--chat-max-tokens must be at least 1");
        }
    }
}

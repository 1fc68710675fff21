package dev.specdec.job.cli;

import dev.specdec.job.gateway.GatewaySettings;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.Map;

/** The OpenAI gateway's own settings, shared by {@code gateway} and {@code serve-local --gateway-port}. */
public final class GatewayOptions {
    @Option(names = "--served-model-name",
            description = "The model name clients send in \"model\" (default: the model folder's name; 'specdec' for gateway).")
    String servedModelName;

    @Option(names = "--max-pending", defaultValue = "256",
            description = "Calls waiting for the job at once; more are answered 429 (default ${DEFAULT-VALUE}).")
    int maxPending;

    @Option(names = "--answer-timeout", defaultValue = "60s", converter = DurationConverter.class,
            description = {"Give up on a call (503, and cancel it in the job) when the job has said nothing about it",
                    "for this long; every streamed chunk restarts the clock (default ${DEFAULT-VALUE})."})
    Duration answerTimeout;

    @Option(names = "--chat-max-tokens", defaultValue = "256",
            description = "max_tokens of chat calls that name none (default ${DEFAULT-VALUE}; completions default to 16, as OpenAI's).")
    int chatMaxTokens;

    @Option(names = "--plain-chat-fallback",
            description = "Chat calls to a model without a chat template render 'Role: content' paragraphs instead of failing.")
    boolean plainChatFallback;

    @Option(names = "--api-key", defaultValue = "${env:SPECDEC_API_KEY}",
            description = "Require 'Authorization: Bearer KEY' (default: $SPECDEC_API_KEY; unset = no key).")
    String apiKey;

    GatewaySettings settings(String host, int port, String defaultModelName, String bootstrapServers,
                             String requestsTopic, String resultsTopic, String chunksTopic, Map<String, String> client) {
        String model = servedModelName != null ? servedModelName : defaultModelName;
        String key = apiKey == null || apiKey.isEmpty() ? null : apiKey;
        return new GatewaySettings(host, port, model, maxPending, answerTimeout, chatMaxTokens, plainChatFallback, key,
                bootstrapServers, requestsTopic, resultsTopic, chunksTopic, client);
    }
}

package dev.specdec.job.cli;

import dev.specdec.job.gateway.OpenAiGateway;
import dev.specdec.job.pipeline.KafkaEndpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code specdec gateway}: an OpenAI-compatible HTTP server in front of a running streaming job
 * (any Kafka, any cluster). It holds no model: calls become requests on the job's requests topic
 * and are answered from its results and chunk topics.
 */
@Command(name = "gateway", mixinStandardHelpOptions = true,
        description = {"Serve the OpenAI API (completions, chat completions, streaming) over a running job's Kafka topics.",
                "Then: curl http://127.0.0.1:8000/v1/completions -H 'Content-Type: application/json' -d '{...}'"})
public final class GatewayCommand implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers of the job.")
    String bootstrapServers;

    @Option(names = "--input-topic", defaultValue = "prompts", description = "The job's requests topic (default ${DEFAULT-VALUE}).")
    String inputTopic;

    @Option(names = "--output-topic", defaultValue = "results", description = "The job's results topic (default ${DEFAULT-VALUE}).")
    String outputTopic;

    @Option(names = "--chunk-topic", defaultValue = "chunks",
            description = "The job's chunk topic; empty: the job streams none, and stream: true is refused (default ${DEFAULT-VALUE}).")
    String chunkTopic;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "8000", description = "Port to listen on; 0 = any free port (default ${DEFAULT-VALUE}).")
    int port;

    @Mixin
    GatewayOptions gateway;

    @Mixin
    KafkaClientOptions client;

    @Override
    public Integer call() throws Exception {
        var settings = gateway.settings(host, port, "specdec", bootstrapServers, inputTopic, outputTopic,
                KafkaEndpoint.chunkTopicOrNone(chunkTopic), client.properties());
        try (OpenAiGateway g = OpenAiGateway.start(settings)) {
            System.out.println("gateway: http://" + host + ":" + g.port() + "/v1 (model '" + settings.servedModel() + "')");
            System.out.flush();
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "specdec-gateway-shutdown"));
            stop.await();
        }
        return 0;
    }
}

package dev.specdec.job.gateway;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * An OpenAI-compatible HTTP server in front of the streaming job: it turns API calls into
 * {@code GenerationRequest}s on the requests topic and answers them from the results and chunk
 * topics. It holds no model; any number of gateways can serve one job.
 */
public final class OpenAiGateway implements AutoCloseable {
    private final PendingAnswers pending;
    private final JobInputs inputs;
    private final JobOutputs outputs;
    private final Server server;
    private final ServerConnector connector;

    private OpenAiGateway(GatewaySettings s) {
        this.inputs = new JobInputs(s.bootstrapServers(), s.requestsTopic(), s.kafkaClientProperties());
        this.pending = new PendingAnswers(s.maxPending(), s.answerTimeout(), inputs::cancel);
        this.outputs = new JobOutputs(s.bootstrapServers(), s.resultsTopic(), s.chunksTopic(), s.kafkaClientProperties(), pending);
        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName("specdec-gateway-http");
        this.server = new Server(threads);
        this.connector = new ServerConnector(server);
        connector.setHost(s.host());
        connector.setPort(s.port());
        // A call without stream sends nothing until its result: the connection must outlive the job's answer.
        connector.setIdleTimeout(Math.max(s.answerTimeout().toMillis() * 2, 300_000));
        server.addConnector(connector);
        server.setHandler(new OpenAiRoutes(s, pending, inputs, outputs));
    }

    public static OpenAiGateway start(GatewaySettings settings) throws Exception {
        OpenAiGateway g = new OpenAiGateway(settings);
        try {
            g.server.start();
        } catch (Exception e) {
            g.close();
            throw e;
        }
        return g;
    }

    /** The port it listens on (the chosen one when started with port 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /** Waits until the gateway reads the job's topics and takes calls. */
    public boolean awaitReady(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (!outputs.ready()) {
            if (System.currentTimeMillis() > deadline) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }

    @Override
    public void close() throws Exception {
        try {
            server.stop();
        } finally {
            pending.close();
            outputs.close();
            inputs.close();
        }
    }
}

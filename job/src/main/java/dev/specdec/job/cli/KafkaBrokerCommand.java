package dev.specdec.job.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code specdec kafka-broker}: the single-node KRaft broker of {@code serve-local} as a process of
 * its own (cluster-local starts it so); runs until it is sent SIGTERM or Ctrl-C.
 */
@Command(name = "kafka-broker", mixinStandardHelpOptions = true, hidden = true,
        description = "Run a single-node Kafka broker (KRaft) on 127.0.0.1 until stopped.")
public final class KafkaBrokerCommand implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "9092", description = "Port on 127.0.0.1 (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--data-dir", required = true, description = "Data folder, kept between runs.")
    Path dataDir;

    @Override
    public Integer call() throws Exception {
        LocalKafkaBroker broker = LocalKafkaBroker.start(port, dataDir);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.close();
            stopped.countDown();
        }, "kafka-broker-shutdown"));
        System.out.println("kafka broker: " + broker.bootstrapServers());
        System.out.flush();
        stopped.await();
        return 0;
    }
}

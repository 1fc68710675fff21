package dev.specdec.job.cli;

import dev.specdec.job.records.OutputRecords;
import dev.specdec.job.records.RecordJson;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.TokenChunk;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;

/**
 * {@code specdec tail}: prints results from the results topic as JSON lines, whichever output format
 * (Avro or JSON) the job wrote them in ({@link OutputRecords}). It reads with
 * {@code isolation.level=read_committed}, so it sees exactly the results of committed job
 * checkpoints (each once). Exits after {@code --count} results, or after {@code --timeout}.
 * With {@code --chunks} it prints the partial output from the chunk topic instead, as it is decoded;
 * {@code --count} then counts requests whose last chunk arrived.
 */
@Command(name = "tail", mixinStandardHelpOptions = true,
        description = "Print results from the results topic (or, with --chunks, partial output) as JSON lines.")
public final class TailCommand implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
    String bootstrapServers;

    @Option(names = "--topic", description = "Topic to read (default: results, or chunks with --chunks).")
    String topic;

    @Option(names = "--chunks", description = "Print TokenChunks (partial output as it is decoded) instead of results.")
    boolean chunks;

    @Option(names = "--count", description = "Exit after this many results (default: run until --timeout or Ctrl-C).")
    Integer count;

    @Option(names = "--timeout", converter = DurationConverter.class,
            description = "Give up after this long (e.g. 60s); exit code 1 if fewer than --count results came.")
    Duration timeout;

    @Option(names = "--from-end", description = "Only results committed from now on (default: from the beginning).")
    boolean fromEnd;

    @Mixin
    KafkaClientOptions client;

    @Option(names = "--ids", split = ",", description = "Only results of these request ids.")
    List<String> ids;

    @Override
    public Integer call() throws Exception {
        if (count != null && count < 1) {
            throw new IllegalArgumentException("--count must be at least 1");
        }
        String from = topic != null ? topic : chunks ? "chunks" : "results";
        Set<String> wanted = ids == null ? null : new HashSet<>(ids);
        long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        int printed = 0;
        Map<String, Object> config = new HashMap<>(client.properties());
        config.putAll(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.GROUP_ID_CONFIG, "specdec-tail-" + UUID.randomUUID(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, fromEnd ? "latest" : "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config,
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(from));
            while (System.nanoTime() < deadline && (count == null || printed < count)) {
                for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(200))) {
                    SpecificRecordBase r;
                    try {
                        r = chunks ? OutputRecords.readChunk(rec) : OutputRecords.readResult(rec);
                    } catch (IOException e) {
                        System.err.println("skipping record at " + rec.topic() + "-" + rec.partition() + "@" + rec.offset()
                                + ": " + e.getMessage());
                        continue;
                    }
                    String id = r instanceof TokenChunk c ? c.getRequestId() : ((GenerationResult) r).getRequestId();
                    if (wanted != null && !wanted.contains(id)) {
                        continue;
                    }
                    System.out.println(RecordJson.toJsonLine(r));
                    System.out.flush();
                    if (!(r instanceof TokenChunk c) || c.getLast()) {
                        printed++;
                    }
                    if (count != null && printed >= count) {
                        break;
                    }
                }
            }
        }
        if (count != null && printed < count) {
            System.err.println("tail: " + printed + " of " + count + (chunks ? " requests' last chunks" : " results")
                    + " before the timeout");
            return 1;
        }
        return 0;
    }
}

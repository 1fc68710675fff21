package dev.specdec.job.gateway;

import dev.specdec.job.records.OutputRecords;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The gateway's reader of the job's results, in either output format ({@code read_committed}: each request's result once, as
 * the job committed it) and chunks (as they are decoded). It reads every partition from the end as
 * it was when the gateway started, without a consumer group, so several gateways can share the job;
 * it is {@link #ready()} once its positions are fixed, and calls are taken only then, so no result
 * of a call can pass before the reader looks.
 */
final class JobOutputs implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobOutputs.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String resultsTopic;
    private final String chunksTopic;
    private final PendingAnswers pending;
    private final Thread thread;
    private volatile boolean ready;
    private volatile boolean running = true;

    JobOutputs(String bootstrapServers, String resultsTopic, String chunksTopic, Map<String, String> clientProperties,
               PendingAnswers pending) {
        Map<String, Object> config = new HashMap<>(clientProperties);
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1000);
        this.consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.resultsTopic = resultsTopic;
        this.chunksTopic = chunksTopic;
        this.pending = pending;
        this.thread = new Thread(this::run, "specdec-gateway-reader");
        thread.setDaemon(true);
        thread.start();
    }

    boolean ready() {
        return ready && thread.isAlive();
    }

    private void run() {
        try {
            List<TopicPartition> partitions = awaitPartitions();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);   // fixes the start before any call is taken
            ready = true;
            LOG.info("gateway reads {} partitions of {}{}", partitions.size(), resultsTopic,
                    chunksTopic == null ? "" : " and " + chunksTopic);
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    dispatch(r);
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.error("the gateway's reader of the job's outputs stopped", e);
        } finally {
            ready = false;
            consumer.close(Duration.ofSeconds(2));
        }
    }

    /** Waits until the job's output topics exist (the job or serve-local creates them). */
    private List<TopicPartition> awaitPartitions() throws WakeupException {
        while (running) {
            List<TopicPartition> results = partitionsOf(resultsTopic);
            List<TopicPartition> chunks = chunksTopic == null ? List.of() : partitionsOf(chunksTopic);
            if (!results.isEmpty() && (chunksTopic == null || !chunks.isEmpty())) {
                List<TopicPartition> out = new ArrayList<>(results);
                out.addAll(chunks);
                return out;
            }
            LOG.info("waiting for the topics {}{} to exist", resultsTopic, chunksTopic == null ? "" : ", " + chunksTopic);
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                throw new WakeupException();
            }
        }
        throw new WakeupException();
    }

    private List<TopicPartition> partitionsOf(String topic) {
        List<TopicPartition> out = new ArrayList<>();
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
        if (infos != null) {
            infos.forEach(p -> out.add(new TopicPartition(topic, p.partition())));
        }
        return out;
    }

    private void dispatch(ConsumerRecord<byte[], byte[]> r) {
        if (r.value() == null) {
            return;
        }
        try {
            if (r.topic().equals(resultsTopic)) {
                pending.onResult(OutputRecords.readResult(r));
            } else {
                pending.onChunk(OutputRecords.readChunk(r));
            }
        } catch (Exception e) {
            LOG.warn("skipped an unreadable record at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.toString());
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(5000);
    }
}

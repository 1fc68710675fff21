package dev.specdec.job.cli;

import dev.specdec.engine.cli.SamplingOptions;
import dev.specdec.job.records.RecordCodec;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.job.records.RequestJson;
import dev.specdec.records.GenerationRequest;
import dev.specdec.records.RequestAction;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * {@code specdec submit}: sends requests to the prompts topic (Avro single-object encoding, keyed by
 * request id) and prints their ids, one per line. Works with any Kafka.
 */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = {"Send prompts to the job's requests topic and print their request ids.",
                "With -, reads standard input: JSON lines (as in --file) or one plain-text prompt per line."})
public final class SubmitCommand implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
    String bootstrapServers;

    @Option(names = "--topic", defaultValue = "prompts", description = "Requests topic (default ${DEFAULT-VALUE}).")
    String topic;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--prompt", description = "One prompt text.")
        String prompt;
        @Option(names = "--file", description = "JSON lines: {id, prompt}, MT-bench, GSM8K or GenerationRequest fields.")
        Path file;
        @Option(names = "-", description = "Read prompts from standard input.")
        boolean stdin;
        @Option(names = "--cancel", description = "Cancel the request with this id.")
        String cancel;
    }

    @Option(names = "--id", description = "Request id for --prompt (default: a new random id).")
    String id;

    @Option(names = "--drafter", description = "ctc, ctc-faithful, medusa or none (default: the job's).")
    String drafter;

    @Option(names = "--timeout-ms", description = "Deadline after the job receives the request.")
    Long timeoutMs;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    KafkaClientOptions client;

    @Override
    public Integer call() throws Exception {
        List<GenerationRequest> requests = requests(sampling.toParams(RequestJson.DEFAULT_MAX_NEW_TOKENS));
        RecordCodec<GenerationRequest> codec = RecordCodec.requests();
        Map<String, Object> config = new HashMap<>(client.properties());
        config.putAll(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config,
                new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<?>> sent = new ArrayList<>();
            for (GenerationRequest r : requests) {
                sent.add(producer.send(new ProducerRecord<>(topic, r.getRequestId().getBytes(StandardCharsets.UTF_8),
                        codec.encode(r))));
            }
            producer.flush();
            for (int i = 0; i < sent.size(); i++) {
                sent.get(i).get(30, TimeUnit.SECONDS);
                System.out.println(requests.get(i).getRequestId());
            }
        }
        return 0;
    }

    private List<GenerationRequest> requests(SamplingParams defaults) throws Exception {
        List<GenerationRequest> out = new ArrayList<>();
        long now = System.currentTimeMillis();
        if (input.cancel != null) {
            out.add(RequestJson.newRequest(input.cancel, defaults).setAction(RequestAction.CANCEL).setSubmitTimeMs(Instant.ofEpochMilli(now)).build());
            return out;
        }
        if (input.prompt != null) {
            out.add(finish(RequestJson.newRequest(id != null ? id : newId(), defaults).setPrompt(input.prompt), now));
            return out;
        }
        List<String> lines = input.file != null ? Files.readAllLines(input.file, StandardCharsets.UTF_8) : readStdin();
        int n = 0;
        for (String line : lines) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            String where = (input.file != null ? input.file.toString() : "stdin") + ":" + n;
            GenerationRequest r;
            if (line.trim().startsWith("{")) {
                try {
                    r = RequestJson.parseLine(line, newId(), defaults);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + ": " + e.getMessage());
                }
            } else {
                r = RequestJson.newRequest(newId(), defaults).setPrompt(line).build();
            }
            out.add(finish(GenerationRequest.newBuilder(r), now));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no prompts to submit");
        }
        return out;
    }

    private GenerationRequest finish(GenerationRequest.Builder b, long now) {
        if (drafter != null) {
            b.setDrafter(RequestJson.drafter(drafter, b.getRequestId()));
        }
        if (timeoutMs != null) {
            b.setTimeoutMs(timeoutMs);
        }
        return b.setSubmitTimeMs(Instant.ofEpochMilli(now)).build();
    }

    private static List<String> readStdin() throws Exception {
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            for (String l = r.readLine(); l != null; l = r.readLine()) {
                lines.add(l);
            }
        }
        return lines;
    }

    private static String newId() {
        return UUID.randomUUID().toString().substring(0, 12);
    }
}

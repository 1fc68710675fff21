package dev.specdec.job.pipeline;

import dev.specdec.job.records.RequestJson;
import dev.specdec.job.decode.DecodeSettings;
import dev.specdec.job.decode.SpeculativeDecodeOperator;
import dev.specdec.job.decode.SpeculativeDecodeOperatorFactory;
import dev.specdec.job.decode.Results;
import dev.specdec.job.ingest.DeadLetters;
import dev.specdec.job.ingest.Ingested;
import dev.specdec.job.ingest.KafkaRequestDeserializer;
import dev.specdec.job.ingest.RequestFileFormat;
import dev.specdec.job.ingest.RequestLimits;
import dev.specdec.job.ingest.RequestValidator;
import dev.specdec.job.records.OutputFormat;
import dev.specdec.job.records.RecordCodec;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.job.state.TokenizedRequest;
import dev.specdec.job.state.TokenizedRequestSerializer;
import dev.specdec.records.DeadLetter;
import dev.specdec.records.GenerationRequest;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.TokenChunk;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.KafkaSinkBuilder;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;
import org.apache.flink.types.Either;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

import java.util.Objects;

/**
 * The job's dataflow: source (Kafka prompts topic, or request files for the bounded job) ->
 * validate and tokenize -> keyBy request id -> speculative decode -> results; dead letters on the
 * side. {@code SpecdecPipeline.builder()...build(env)} adds it to an environment and returns its
 * output streams; {@link #sinkResultsToFiles} and friends attach the sinks the commands use (tests
 * attach their own).
 */
public final class SpecdecPipeline {
    /**
     * The pipeline's outputs: every request's result, the records it could not serve, and the
     * requests' partial output (empty unless {@link DecodeSettings#streamChunks()} is on).
     */
    public record Outputs(DataStream<GenerationResult> results, DataStream<DeadLetter> deadLetters,
                          DataStream<TokenChunk> chunks) {
    }

    private final DecodeSettings decode;
    private final SamplingParams defaults;
    private final RequestLimits limits;
    private final String inputPath;
    private final KafkaEndpoint kafka;
    private final int parallelism;

    private SpecdecPipeline(Builder b) {
        this.decode = b.decode;
        this.defaults = b.defaults;
        this.limits = b.limits;
        this.inputPath = b.inputPath;
        this.kafka = b.kafka;
        this.parallelism = b.parallelism;
    }

    public static Builder builder() {
        return new Builder();
    }

    private Outputs addTo(StreamExecutionEnvironment env) {
        DataStream<Either<DeadLetter, GenerationRequest>> input = inputPath != null ? fileInput(env) : kafkaInput(env);
        SingleOutputStreamOperator<TokenizedRequest> valid = input
                .process(new RequestValidator(decode.modelDir(), decode.chatTemplate(), decode.defaultMethod(),
                                decode.defaultTimeoutMillis(), limits),
                        TokenizedRequestSerializer.typeInfo())
                .name("validate").uid("validate")
                .setParallelism(parallelism);
        SingleOutputStreamOperator<GenerationResult> decoded = valid
                .keyBy(TokenizedRequest::id, Types.STRING)
                .transform("speculative-decode", new AvroTypeInfo<>(GenerationResult.class),
                        new SpeculativeDecodeOperatorFactory(decode))
                .uid("speculative-decode")
                .setParallelism(parallelism);
        DataStream<GenerationResult> results = decoded.union(valid.getSideOutput(RequestValidator.ERRORS));
        DataStream<DeadLetter> deadLetters = valid.getSideOutput(RequestValidator.DEAD_LETTERS)
                .union(decoded.getSideOutput(SpeculativeDecodeOperator.DEAD_LETTERS));
        return new Outputs(results, deadLetters, decoded.getSideOutput(SpeculativeDecodeOperator.CHUNKS));
    }

    private DataStream<Either<DeadLetter, GenerationRequest>> fileInput(StreamExecutionEnvironment env) {
        FileSource<Either<DeadLetter, GenerationRequest>> source =
                FileSource.forBulkFileFormat(new RequestFileFormat(defaults, limits), new Path(inputPath)).build();
        return env.fromSource(source, WatermarkStrategy.noWatermarks(), "requests (files)", Ingested.type())
                .setDescription("requests <- " + inputPath).uid("source").setParallelism(1);
    }

    private DataStream<Either<DeadLetter, GenerationRequest>> kafkaInput(StreamExecutionEnvironment env) {
        KafkaSourceBuilder<Either<DeadLetter, GenerationRequest>> builder = KafkaSource.builder();
        kafka.clientProperties().forEach(builder::setProperty);
        KafkaSource<Either<DeadLetter, GenerationRequest>> source = builder
                .setBootstrapServers(kafka.bootstrapServers())
                .setTopics(kafka.inputTopic())
                .setGroupId(kafka.groupId())
                // Resume from the group's committed offsets; a new group starts at the beginning of the topic.
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new KafkaRequestDeserializer(defaults, limits))
                // Prompts are produced transactionally by some clients: never read aborted ones.
                .setProperty("isolation.level", "read_committed")
                .build();
        return env.fromSource(source, WatermarkStrategy.noWatermarks(), "requests (kafka)", Ingested.type())
                .setDescription("requests <- " + kafka.inputTopic()).uid("source").setParallelism(parallelism);
    }

    /** Results as JSON lines in {@code dir} (files {@code results-*.jsonl}), committed at checkpoints. */
    public static void sinkResultsToFiles(DataStream<GenerationResult> results, String dir) {
        results.sinkTo(jsonLines(dir, "results")).name("results (files)").setDescription("results -> " + dir)
                .uid("results-sink");
    }

    /** Dead letters as JSON lines in {@code dir} (files {@code dead-letters-*.jsonl}). */
    public static void sinkDeadLettersToFiles(DataStream<DeadLetter> deadLetters, String dir) {
        deadLetters.sinkTo(jsonLines(dir, "dead-letters")).name("dead letters (files)")
                .setDescription("dead letters -> " + dir).uid("dead-letter-sink");
    }

    private static <T extends org.apache.avro.generic.IndexedRecord> FileSink<T> jsonLines(String dir, String prefix) {
        return FileSink.forRowFormat(new Path(dir), new JsonLineEncoder<T>())
                .withBucketAssigner(new BasePathBucketAssigner<>())
                .withRollingPolicy(OnCheckpointRollingPolicy.build())
                .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix(prefix).withPartSuffix(".jsonl").build())
                .build();
    }

    /** Results to the output topic, exactly once (transactions committed at checkpoints; read them read_committed). */
    public static void sinkResultsToKafka(DataStream<GenerationResult> results, KafkaEndpoint kafka) {
        results.sinkTo(kafkaSink(kafka, kafka.outputTopic(), "results",
                new KafkaOutputSerializer<GenerationResult>(kafka.outputTopic(), r -> r.getRequestId(), RecordCodec::results,
                        Results::tooLarge, kafka.outputFormat())))
                .name("results (kafka)").setDescription("results -> " + kafka.outputTopic()).uid("results-sink");
    }

    /**
     * Partial output to the chunk topic, at least once: chunks are sent as decoding goes, not held
     * until a checkpoint commits, and a recovery can repeat some (same content, same offsets).
     */
    public static void sinkChunksToKafka(DataStream<TokenChunk> chunks, KafkaEndpoint kafka) {
        Objects.requireNonNull(kafka.chunkTopic(), "chunk topic");
        chunks.sinkTo(clientOf(kafka, KafkaSink.<TokenChunk>builder())
                        .setBootstrapServers(kafka.bootstrapServers())
                        .setRecordSerializer(new KafkaOutputSerializer<TokenChunk>(kafka.chunkTopic(), c -> c.getRequestId(),
                                RecordCodec::chunks, Results::tooLarge, kafka.outputFormat()))
                        .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                        // Chunks are for watching text appear: send each at once instead of batching.
                        .setProperty("linger.ms", "0")
                        .build())
                .name("chunks (kafka)").setDescription("chunks -> " + kafka.chunkTopic()).uid("chunk-sink");
    }

    public static void sinkDeadLettersToKafka(DataStream<DeadLetter> deadLetters, KafkaEndpoint kafka) {
        deadLetters.sinkTo(kafkaSink(kafka, kafka.deadLetterTopic(), "dead-letters",
                new KafkaOutputSerializer<DeadLetter>(kafka.deadLetterTopic(), d -> d.getRequestId(), RecordCodec::deadLetters,
                        DeadLetters::tooLarge, OutputFormat.AVRO)))
                .name("dead letters (kafka)").setDescription("dead letters -> " + kafka.deadLetterTopic())
                .uid("dead-letter-sink");
    }

    private static <T> KafkaSink<T> kafkaSink(KafkaEndpoint kafka, String topic, String what,
                                              org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema<T> schema) {
        Objects.requireNonNull(topic, what + " topic");
        return clientOf(kafka, KafkaSink.<T>builder())
                .setBootstrapServers(kafka.bootstrapServers())
                .setRecordSerializer(schema)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(kafka.transactionalIdPrefix() + "-" + what)
                .setProperty("transaction.timeout.ms", Long.toString(kafka.transactionTimeout().toMillis()))
                .build();
    }

    /** A sink builder with the endpoint's client settings (TLS, SASL, ...), before the sink's own. */
    private static <T> KafkaSinkBuilder<T> clientOf(KafkaEndpoint kafka, KafkaSinkBuilder<T> builder) {
        kafka.clientProperties().forEach(builder::setProperty);
        return builder;
    }

    /** Collects the pieces of a pipeline; {@link #build} throws IllegalArgumentException naming what is wrong. */
    public static final class Builder {
        private DecodeSettings decode;
        private SamplingParams defaults = RequestJson.STANDARD_DEFAULTS;
        private RequestLimits limits = RequestLimits.DEFAULTS;
        private String inputPath;
        private KafkaEndpoint kafka;
        private int parallelism = 1;

        private Builder() {
        }

        public Builder decode(DecodeSettings settings) {
            this.decode = settings;
            return this;
        }

        public Builder defaults(SamplingParams defaults) {
            this.defaults = defaults;
            return this;
        }

        /** What one request may hold ({@link RequestLimits#DEFAULTS} unless set). */
        public Builder limits(RequestLimits limits) {
            this.limits = Objects.requireNonNull(limits, "request limits");
            return this;
        }

        /** A request file or a folder of them (bounded input). */
        public Builder fileInput(String path) {
            this.inputPath = path;
            return this;
        }

        /** The prompts topic (unbounded input). */
        public Builder kafkaInput(KafkaEndpoint kafka) {
            this.kafka = kafka;
            return this;
        }

        /** Parallelism of validation and decoding (one model per decode subtask). */
        public Builder parallelism(int n) {
            this.parallelism = n;
            return this;
        }

        /** Checks the pieces and adds the pipeline to {@code env}; returns its output streams. */
        public Outputs build(StreamExecutionEnvironment env) {
            if (decode == null) {
                throw new IllegalArgumentException("decode settings are required");
            }
            if ((inputPath == null) == (kafka == null)) {
                throw new IllegalArgumentException("choose exactly one input: a request file or a Kafka topic");
            }
            if (parallelism < 1) {
                throw new IllegalArgumentException("parallelism must be at least 1, got " + parallelism);
            }
            Objects.requireNonNull(defaults, "request defaults");
            return new SpecdecPipeline(this).addTo(env);
        }
    }
}

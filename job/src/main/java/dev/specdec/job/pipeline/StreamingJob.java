package dev.specdec.job.pipeline;

import dev.specdec.job.decode.DecodeSettings;
import dev.specdec.job.ingest.RequestLimits;
import dev.specdec.job.records.RecordJson;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.records.DeadLetter;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The streaming job: prompts topic in, results topic out (exactly once), partial output to the
 * chunk topic if one is configured (at least once), dead letters to their topic, or to the task
 * log when no dead-letter topic is configured. Shared by {@code specdec run},
 * {@code specdec serve-local} and the job jar's main class for {@code flink run}.
 */
public final class StreamingJob {
    private StreamingJob() {
    }

    public static void attach(StreamExecutionEnvironment env, KafkaEndpoint kafka, DecodeSettings decode,
                              SamplingParams defaults, int parallelism) {
        attach(env, kafka, decode, defaults, RequestLimits.DEFAULTS, parallelism);
    }

    public static void attach(StreamExecutionEnvironment env, KafkaEndpoint kafka, DecodeSettings decode,
                              SamplingParams defaults, RequestLimits limits, int parallelism) {
        SpecdecPipeline.Outputs streams = SpecdecPipeline.builder()
                .decode(decode.toBuilder().streamChunks(kafka.chunkTopic() != null).build())
                .defaults(defaults)
                .limits(limits)
                .kafkaInput(kafka)
                .parallelism(parallelism)
                .build(env);
        SpecdecPipeline.sinkResultsToKafka(streams.results(), kafka);
        if (kafka.chunkTopic() != null) {
            SpecdecPipeline.sinkChunksToKafka(streams.chunks(), kafka);
        }
        if (kafka.deadLetterTopic() != null) {
            SpecdecPipeline.sinkDeadLettersToKafka(streams.deadLetters(), kafka);
        } else {
            streams.deadLetters()
                    .map((DeadLetter d) -> "dead letter: " + RecordJson.toJsonLine(d), Types.STRING)
                    .name("dead letters: log").uid("dead-letter-log")
                    .printToErr();
        }
    }
}

package dev.specdec.job.cli;

import dev.specdec.engine.cli.SamplingOptions;
import dev.specdec.job.records.RequestJson;
import dev.specdec.job.pipeline.KafkaEndpoint;
import dev.specdec.job.pipeline.StreamingJob;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/**
 * {@code specdec run}: the streaming job on an in-process Flink cluster with its dashboard. The same
 * job runs on a real cluster from the job jar ({@code flink run target/specdec-job-*-flink.jar ...},
 * main class {@link dev.specdec.job.FlinkJobMain}).
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run the streaming job: requests from a Kafka topic, results to another (exactly once).",
                "Runs until stopped (Ctrl-C); the Flink dashboard is at http://127.0.0.1:8081."})
public final class RunCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Mixin
    DecodeOptions decode;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    ClusterOptions cluster;

    @Mixin
    SessionClusterOptions session;

    @Override
    public Integer call() throws Exception {
        KafkaEndpoint endpoint = kafka.endpoint();
        if (session.remote()) {
            return submit(endpoint);
        }
        Configuration conf = cluster.configuration("run");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        env.setParallelism(cluster.parallelism());
        StreamingJob.attach(env, endpoint, decode.settings(), sampling.toParams(RequestJson.DEFAULT_MAX_NEW_TOKENS),
                decode.limits(), cluster.parallelism());
        System.err.println("specdec run: requests from " + endpoint.inputTopic() + ", results to " + endpoint.outputTopic()
                + " on " + endpoint.bootstrapServers() + "; dashboard http://127.0.0.1:" + cluster.webPort());
        try {
            env.executeAsync("specdec run: " + endpoint.inputTopic() + " -> " + endpoint.outputTopic())
                    .getJobExecutionResult().get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw JobFailure.of("the streaming job", e);
        }
        return 0;
    }

    /** Submits the job to the session cluster and returns: the job runs there until it is cancelled. */
    private int submit(KafkaEndpoint endpoint) throws Exception {
        StreamExecutionEnvironment env = session.environment(cluster, new Configuration());
        StreamingJob.attach(env, endpoint, decode.settings(), sampling.toParams(RequestJson.DEFAULT_MAX_NEW_TOKENS),
                decode.limits(), env.getParallelism());
        var job = env.executeAsync("specdec run: " + endpoint.inputTopic() + " -> " + endpoint.outputTopic());
        String[] hp = session.hostAndPort();
        System.out.println("job: " + job.getJobID() + " on " + hp[0] + ":" + hp[1] + " (parallelism " + env.getParallelism()
                + "); dashboard http://" + hp[0] + ":" + hp[1]);
        return 0;
    }
}

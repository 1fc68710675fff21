package dev.specdec.deploy;

import dev.specdec.job.FlinkJobMain;
import dev.specdec.job.cli.DecodeOptions;
import dev.specdec.job.cli.KafkaOptions;
import dev.specdec.engine.cli.SamplingOptions;
import dev.specdec.job.records.RequestJson;
import dev.specdec.job.cli.SubmitCommand;
import dev.specdec.job.cli.TailCommand;
import dev.specdec.job.decode.DeviceSelector;
import dev.specdec.job.pipeline.KafkaEndpoint;
import org.apache.commons.cli.Options;
import org.apache.flink.client.cli.CliFrontendParser;
import org.apache.flink.client.cli.DefaultCLI;
import org.apache.flink.configuration.BlobServerOptions;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ClusterOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ExternalResourceOptions;
import org.apache.flink.configuration.HighAvailabilityOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static dev.specdec.deploy.DeployFiles.at;
import static dev.specdec.deploy.DeployFiles.list;
import static dev.specdec.deploy.DeployFiles.map;
import static dev.specdec.deploy.DeployFiles.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * No Docker engine or Kubernetes cluster runs where the tests run, so the deployment files are checked
 * by reading them the way Docker Compose, the Flink image entrypoint, the apache/kafka image, BuildKit
 * and the Flink Kubernetes Operator do, and by handing the commands they run to the parsers of the
 * programs that will run them: the job's own picocli command line (FlinkJobMain, from the job jar),
 * Flink 2.2's {@code flink run} option parser, Flink's configuration options and Kafka's broker config.
 */
class DeploymentFilesTest {
    static final Path ROOT = DeployFiles.projectRoot();
    static final Path COMPOSE = ROOT.resolve("docker-compose.yml");
    static final Path COMPOSE_CPU = ROOT.resolve("docker-compose.cpu.yml");
    static final Path DOCKERFILE = ROOT.resolve("deploy/docker/Dockerfile");
    static final Path K8S = ROOT.resolve("deploy/k8s");

    static final List<String> FLINK_SERVICES = List.of("jobmanager", "taskmanager", "job-submit");
    static final String GPU_DRIVER_FACTORY = "org.apache.flink.externalresource.gpu.GPUDriverFactory";
    static final String GPU_PLUGIN_DIR = "/opt/flink/plugins/external-resource-gpu";

    // ================================================================== docker-compose.yml

    static Map<String, Object> compose() {
        return DeployFiles.yaml(COMPOSE);
    }

    static Map<String, Object> service(Map<String, Object> compose, String name) {
        Object s = at(compose, "services", name);
        assertNotNull(s, "docker-compose.yml has no service " + name);
        return map(s, name);
    }

    static Map<String, String> flinkProperties(Map<String, Object> service, String name) {
        String block = DeployFiles.environment(service, name).get("FLINK_PROPERTIES");
        assertNotNull(block, name + " has no FLINK_PROPERTIES");
        return DeployFiles.flinkProperties(block, name);
    }

    /** The job-submit service's command, read by Flink's own `flink run` parser. */
    static FlinkRun composeRun(Map<String, Object> compose) {
        return FlinkRun.parse(strings(service(compose, "job-submit").get("command"), "job-submit.command"));
    }

    @Test
    void composeHasTheServices() throws Exception {
        Map<String, Object> services = map(compose().get("services"), "services");
        assertEquals(new TreeSet<>(List.of("kafka", "topics-init", "jobmanager", "taskmanager", "job-submit", "prometheus",
                "grafana")), new TreeSet<>(services.keySet()));
        for (String metrics : List.of("prometheus", "grafana")) {
            for (String port : strings(service(compose(), metrics).get("ports"), metrics + ".ports")) {
                assertTrue(port.startsWith("127.0.0.1:"), metrics + " publishes " + port + " beyond loopback");
            }
        }
        // Prometheus scrapes both Flink processes on the reporter's port; Grafana gets the dashboard.
        String scrape = Files.readString(ROOT.resolve("deploy/prometheus/prometheus.yml"));
        assertTrue(scrape.contains("jobmanager:9249") && scrape.contains("taskmanager:9249"), scrape);
        com.fasterxml.jackson.databind.JsonNode dashboard = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(ROOT.resolve("deploy/grafana/specdec-dashboard.json").toFile());
        assertTrue(dashboard.path("panels").size() >= 10, "dashboard panels");
        assertEquals("apache/kafka:4.2.0", service(compose(), "kafka").get("image"));
        assertEquals("apache/kafka:4.2.0", service(compose(), "topics-init").get("image"));
        String image = null;
        for (String name : FLINK_SERVICES) {
            Map<String, Object> s = service(compose(), name);
            assertEquals("deploy/docker/Dockerfile", at(s, "build", "dockerfile"), name);
            assertEquals(".", at(s, "build", "context"), name + ": the build context must be the repository root");
            assertEquals("cu128", at(s, "build", "args", "PYTORCH_FLAVOR"), name);
            if (image == null) {
                image = (String) s.get("image");
            }
            assertEquals(image, s.get("image"), "every Flink container runs the same image");
        }
        assertEquals("jobmanager", service(compose(), "jobmanager").get("command"));
        assertEquals("taskmanager", service(compose(), "taskmanager").get("command"));
    }

    @Test
    void kafkaRunsKraftSingleNodeWithValidBrokerSettings() throws Exception {
        Map<String, String> env = DeployFiles.environment(service(compose(), "kafka"), "kafka");
        Properties props = kafkaBrokerProperties(env, "docker-compose.yml kafka");
        assertEquals(Set.of("broker", "controller"), Set.of(props.getProperty("process.roles").split(",")));
        assertEquals(1, props.getProperty("controller.quorum.voters").split(",").length, "single node");
        assertTrue(env.containsKey("CLUSTER_ID"));
        assertFalse(props.containsKey("zookeeper.connect"));
        // The listener clients on the host use is published on the same port.
        assertTrue(props.getProperty("advertised.listeners").contains("PLAINTEXT_HOST://localhost:9092"));
        // Published on the host's loopback only: an unauthenticated listener must not face the network.
        assertEquals(List.of("127.0.0.1:9092:9092"), strings(service(compose(), "kafka").get("ports"), "kafka.ports"));
        // The persistent log folder is a volume.
        assertTrue(strings(service(compose(), "kafka").get("volumes"), "kafka.volumes")
                .contains("kafka-data:" + props.getProperty("log.dirs")));
        assertTrue(map(compose().get("volumes"), "volumes").containsKey("kafka-data"));
    }

    /**
     * The broker properties the apache/kafka image derives from KAFKA_* variables; each must be a real
     * broker setting, and Kafka's own KafkaConfig must accept the whole set (KRaft listener rules).
     */
    static Properties kafkaBrokerProperties(Map<String, String> env, String where) {
        Set<String> known = kafka.server.KafkaConfig.configDef().names();
        Properties props = new Properties();
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (!e.getKey().startsWith("KAFKA_")) {
                continue;
            }
            String prop = DeployFiles.kafkaProperty(e.getKey());
            assertTrue(known.contains(prop), where + ": " + e.getKey() + " is not a Kafka broker setting (" + prop + ")");
            props.setProperty(prop, e.getValue());
        }
        kafka.server.KafkaConfig.fromProps(props);    // throws on an inconsistent KRaft configuration
        return props;
    }

    @Test
    void dashboardPortIsPublishedOnLoopbackOnly() {
        List<String> ports = strings(service(compose(), "jobmanager").get("ports"), "jobmanager.ports");
        // The REST API uploads and runs jars: code execution for whoever reaches it.
        assertEquals(List.of("127.0.0.1:8081:8081"), ports, "the Flink dashboard on 127.0.0.1:8081 only");
        assertEquals("jobmanager:8081", composeRun(compose()).jobManager(),
                "flink run talks to the JobManager's REST port");
    }

    @Test
    void theTopicsTheJobUsesAreCreated() {
        Map<String, Object> init = service(compose(), "topics-init");
        assertEquals(List.of("/bin/sh", "-c"), strings(init.get("entrypoint"), "topics-init.entrypoint"));
        String script = String.join("\n", strings(init.get("command"), "topics-init.command"));
        Map<String, String> created = DeployFiles.createdTopics(script);
        KafkaEndpoint endpoint = JobArgs.parse(composeRun(compose()).programArgs()).endpoint();
        assertEquals(Set.of("prompts", "results", "dead-letters", "chunks"), created.keySet());
        assertEquals(Set.of(endpoint.inputTopic(), endpoint.outputTopic(), endpoint.deadLetterTopic(), endpoint.chunkTopic()),
                created.keySet());
        for (String bootstrap : created.values()) {
            assertEquals(endpoint.bootstrapServers(), bootstrap, "topics are created on the broker the job reads");
        }
        assertTrue(endpoint.bootstrapServers().startsWith("kafka:"), endpoint.bootstrapServers());
        String port = endpoint.bootstrapServers().substring("kafka:".length());
        assertTrue(DeployFiles.environment(service(compose(), "kafka"), "kafka").get("KAFKA_ADVERTISED_LISTENERS")
                .contains("PLAINTEXT://kafka:" + port), "the job's bootstrap address is the broker's internal listener");
        ShellSyntax.check("sh", script, "topics-init");
    }

    @Test
    void servicesStartInOrder() {
        Map<String, Object> c = compose();
        assertEquals("service_healthy", at(service(c, "topics-init"), "depends_on", "kafka", "condition"));
        assertEquals("service_healthy", at(service(c, "taskmanager"), "depends_on", "jobmanager", "condition"));
        Map<String, Object> submit = service(c, "job-submit");
        assertEquals("service_completed_successfully", at(submit, "depends_on", "topics-init", "condition"));
        assertEquals("service_healthy", at(submit, "depends_on", "jobmanager", "condition"));
        assertEquals("service_healthy", at(submit, "depends_on", "taskmanager", "condition"));
        for (String oneShot : List.of("topics-init", "job-submit")) {
            assertEquals("no", service(c, oneShot).get("restart"), oneShot + " runs once");
        }
        // Every service waited on as healthy has a health check.
        for (Map.Entry<String, Object> s : map(c.get("services"), "services").entrySet()) {
            Object deps = map(s.getValue(), s.getKey()).get("depends_on");
            if (deps == null) {
                continue;
            }
            for (Map.Entry<String, Object> d : map(deps, s.getKey() + ".depends_on").entrySet()) {
                if ("service_healthy".equals(at(d.getValue(), "condition"))) {
                    assertNotNull(at(service(c, d.getKey()), "healthcheck", "test"), d.getKey() + " needs a healthcheck");
                }
            }
        }
        assertEquals(List.of("/opt/specdec/bin/submit-job.sh"), strings(submit.get("entrypoint"), "job-submit.entrypoint"));
        assertTrue(Files.isRegularFile(ROOT.resolve("deploy/docker/submit-job.sh")));
    }

    @Test
    void ourJvmContainersRunOffline() {
        for (String name : FLINK_SERVICES) {
            Map<String, String> env = DeployFiles.environment(service(compose(), name), name);
            assertEquals("true", env.get("DJL_OFFLINE"), name);
            assertEquals("true", env.get("OPT_OUT_TRACKING"), name);
        }
    }

    @Test
    void taskManagerReservesAGpuAndFlinkKnowsAboutIt() {
        Map<String, Object> tm = service(compose(), "taskmanager");
        List<Object> devices = list(at(tm, "deploy", "resources", "reservations", "devices"), "devices");
        assertEquals(1, devices.size());
        Map<String, Object> gpu = map(devices.get(0), "device");
        assertEquals("nvidia", gpu.get("driver"));
        assertTrue(strings(gpu.get("capabilities"), "capabilities").contains("gpu"));
        int reserved = (Integer) gpu.get("count");

        Map<String, String> props = flinkProperties(tm, "taskmanager");
        checkGpuResource(props, "docker-compose.yml taskmanager");
        assertEquals(reserved, Integer.parseInt(props.get(ExternalResourceOptions.getAmountConfigOptionForResource("gpu"))),
                "Flink's GPU amount is the number of GPUs the container gets");
        assertEquals(String.valueOf(reserved), props.get(TaskManagerOptions.NUM_TASK_SLOTS.key()), "one slot per GPU");
    }

    /** The GPU external resource as the job reads it (resource "gpu", the plugin shipped in the image). */
    static void checkGpuResource(Map<String, String> props, String where) {
        String resource = DeviceSelector.GPU_RESOURCE;
        assertTrue(List.of(props.getOrDefault(ExternalResourceOptions.EXTERNAL_RESOURCE_LIST.key(), "").split(";"))
                .contains(resource), where + ": external-resources must list " + resource);
        assertEquals(GPU_DRIVER_FACTORY,
                props.get(ExternalResourceOptions.getExternalResourceDriverFactoryConfigOptionForResource(resource)), where);
        String script = props.get(ExternalResourceOptions.getExternalResourceParamConfigPrefixForResource(resource)
                + "discovery-script.path");
        assertEquals(GPU_PLUGIN_DIR + "/nvidia-gpu-discovery.sh", script, where);
        String dockerfile = DeployFiles.read(DOCKERFILE);
        assertTrue(dockerfile.contains("gpu=" + GPU_PLUGIN_DIR) && dockerfile.contains("nvidia-gpu-discovery.sh"),
                "the image recipe puts the GPU plugin and its discovery script in " + GPU_PLUGIN_DIR);
    }

    /**
     * DJL loads PyTorch's and the tokenizer's native libraries, which a JVM loads once: DJL must sit in
     * Flink's lib/ and load parent-first, or the first job restart (a new job classloader) fails with
     * "already loaded in another classloader".
     */
    @Test
    void djlLoadsParentFirstFromFlinksLib() {
        String key = CoreOptions.ALWAYS_PARENT_FIRST_LOADER_PATTERNS_ADDITIONAL.key();
        Map<String, String> tm = flinkProperties(service(compose(), "taskmanager"), "taskmanager");
        Map<String, String> fd = flinkConfiguration(map(flinkDeployment().get("spec"), "spec"));
        for (Map.Entry<String, Map<String, String>> e : Map.of("docker-compose.yml taskmanager", tm, "FlinkDeployment", fd).entrySet()) {
            String patterns = e.getValue().getOrDefault(key, "");
            assertTrue(List.of(patterns.split(";")).contains("ai.djl."), e.getKey() + ": " + key + " must include ai.djl.");
        }
        String dockerfile = DeployFiles.read(DOCKERFILE);
        for (String jar : List.of("ai.djl:api:", "ai.djl.pytorch:pytorch-engine:", "ai.djl.pytorch:pytorch-jni:",
                "ai.djl.huggingface:tokenizers:")) {
            assertTrue(dockerfile.contains(jar), "the image puts " + jar + " into Flink's lib/");
        }
    }

    @Test
    void cpuOverrideDropsTheGpu() {
        Map<String, Object> base = compose();
        Map<String, Object> over = DeployFiles.yaml(COMPOSE_CPU);
        assertTrue(at(over, "services", "taskmanager", "deploy", "resources", "reservations", "devices")
                instanceof DeployFiles.Tagged t && t.tag().equals("!reset"), "the override resets the device list");
        Map<String, Object> merged = map(DeployFiles.merge(base, over, ""), "merged");

        Map<String, Object> tm = service(merged, "taskmanager");
        Object devices = at(tm, "deploy", "resources", "reservations", "devices");
        assertTrue(devices == null || list(devices, "devices").isEmpty(), "no GPU reservation left: " + devices);
        Map<String, String> cpuProps = flinkProperties(tm, "taskmanager (cpu)");
        assertTrue(cpuProps.keySet().stream().noneMatch(k -> k.startsWith("external-resource")), cpuProps.toString());

        // Otherwise the same TaskManager configuration as with a GPU.
        Map<String, String> gpuProps = new LinkedHashMap<>(flinkProperties(service(base, "taskmanager"), "taskmanager"));
        gpuProps.keySet().removeIf(k -> k.startsWith("external-resource"));
        assertEquals(gpuProps, cpuProps);
        checkFlinkConfiguration(cpuProps, "docker-compose.cpu.yml taskmanager");

        for (String name : FLINK_SERVICES) {
            Map<String, Object> s = service(merged, name);
            assertEquals("cpu", at(s, "build", "args", "PYTORCH_FLAVOR"), name);
            assertEquals("deploy/docker/Dockerfile", at(s, "build", "dockerfile"), name);
            assertEquals("specdec-flink:cpu", s.get("image"), name);
            assertTrue(((String) service(base, name).get("image")).endsWith(":cu128"), name);
        }
        // Nothing else changes: same job, same Kafka.
        assertEquals(composeRun(base), composeRun(merged));
        assertEquals(service(base, "kafka"), service(merged, "kafka"));
    }

    @Test
    void sinkTransactionsFitTheBrokersLimit() {
        Duration sink = JobArgs.parse(composeRun(compose()).programArgs()).endpoint().transactionTimeout();
        long brokerMax = Long.parseLong(DeployFiles.environment(service(compose(), "kafka"), "kafka")
                .get("KAFKA_TRANSACTION_MAX_TIMEOUT_MS"));
        assertTrue(sink.toMillis() <= brokerMax, "--transaction-timeout " + sink + " > broker max " + brokerMax + " ms");
    }

    @Test
    void composeCheckpointsAreUnalignedCompressedAndOnAVolume() {
        Map<String, Object> c = compose();
        for (String name : List.of("jobmanager", "taskmanager")) {
            Map<String, Object> s = service(c, name);
            Map<String, String> props = flinkProperties(s, name);
            checkFlinkConfiguration(props, "docker-compose.yml " + name);
            checkCheckpointing(props, "docker-compose.yml " + name);
            List<String> volumes = strings(s.get("volumes"), name + ".volumes");
            for (ConfigOption<String> dir : List.of(CheckpointingOptions.CHECKPOINTS_DIRECTORY, CheckpointingOptions.SAVEPOINT_DIRECTORY)) {
                String path = fileUriPath(props.get(dir.key()), name + " " + dir.key());
                String volume = volumes.stream()
                        .filter(v -> under(path, v.substring(v.indexOf(':') + 1)))
                        .map(v -> v.substring(0, v.indexOf(':')))
                        .findFirst().orElseThrow(() -> new AssertionError(name + ": " + path + " is not on a volume " + volumes));
                assertTrue(map(c.get("volumes"), "volumes").containsKey(volume), "named volume " + volume);
            }
        }
        assertEquals(service(c, "jobmanager").get("volumes"), service(c, "taskmanager").get("volumes"),
                "JobManager and TaskManager share the checkpoint volume");
    }

    static void checkCheckpointing(Map<String, String> props, String where) {
        assertEquals("true", props.get(CheckpointingOptions.ENABLE_UNALIGNED.key()), where + ": unaligned checkpoints");
        assertEquals("true", props.get(ExecutionOptions.SNAPSHOT_COMPRESSION.key()), where + ": snapshot compression");
        assertNotNull(props.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY.key()), where);
        assertNotNull(props.get(CheckpointingOptions.SAVEPOINT_DIRECTORY.key()), where);
    }

    static String fileUriPath(String uri, String what) {
        assertNotNull(uri, what);
        assertTrue(uri.startsWith("file:///"), what + " must be a file:// URI on a mounted volume: " + uri);
        return uri.substring("file://".length());
    }

    static boolean under(String path, String mount) {
        String m = mount.endsWith("/") ? mount.substring(0, mount.length() - 1) : mount;
        return path.equals(m) || path.startsWith(m + "/");
    }

    @Test
    void jobSubmissionRunsTheJobJarsMainClass() {
        FlinkRun run = composeRun(compose());
        assertEquals(FlinkJobMain.class.getName(), run.entryClass(), "-c names the job jar's main class");
        assertTrue(run.detached(), "-d: the one-shot service exits once the job is submitted");
        assertEquals(imageJarPath(), run.jar(), "the jar the image recipe installs");
        JobArgs args = JobArgs.parse(run.programArgs());
        assertEquals(imageModelPath(), args.option("--model").toString(), "--model is the model the image bundles");
        assertEquals("auto", args.option("--device"));
        Map<String, String> tm = flinkProperties(service(compose(), "taskmanager"), "taskmanager");
        int parallelism = args.option("--parallelism");
        assertTrue(parallelism <= Integer.parseInt(tm.get(TaskManagerOptions.NUM_TASK_SLOTS.key())),
                "one TaskManager must have a slot per decode subtask");
        // submit-job.sh recognises a running job by the name FlinkJobMain gives it.
        String main = DeployFiles.read(ROOT.resolve("job/src/main/java/dev/specdec/job/FlinkJobMain.java"));
        assertTrue(main.contains("env.execute(\"specdec: \""), "FlinkJobMain names its job \"specdec: ...\"");
        assertTrue(DeployFiles.read(ROOT.resolve("deploy/docker/submit-job.sh")).contains("\"name\":\"specdec: "));
    }

    // ================================================================== Flink configuration keys

    static final List<Class<?>> OPTION_CLASSES = List.of(CheckpointingOptions.class, ExecutionOptions.class,
            StateBackendOptions.class, StateRecoveryOptions.class, TaskManagerOptions.class, JobManagerOptions.class,
            CoreOptions.class, HighAvailabilityOptions.class, RestartStrategyOptions.class, RestOptions.class,
            ExternalResourceOptions.class, ClusterOptions.class, PipelineOptions.class, DeploymentOptions.class,
            MetricOptions.class, WebOptions.class, BlobServerOptions.class);

    static Map<String, ConfigOption<?>> flinkOptions() {
        Map<String, ConfigOption<?>> out = new HashMap<>();
        for (Class<?> c : OPTION_CLASSES) {
            for (Field f : c.getFields()) {
                if (Modifier.isStatic(f.getModifiers()) && ConfigOption.class.isAssignableFrom(f.getType())) {
                    try {
                        ConfigOption<?> o = (ConfigOption<?>) f.get(null);
                        out.put(o.key(), o);
                    } catch (IllegalAccessException e) {
                        throw new AssertionError(e);
                    }
                }
            }
        }
        return out;
    }

    static final Set<String> GPU_KEYS = Set.of("amount", "driver-factory.class", "param.discovery-script.path",
            "param.discovery-script.args", "kubernetes.config-key");

    /**
     * Every key is a current Flink 2.2 option (no pre-2.0 names) with a value Flink can parse; no key is a
     * dotted prefix of another (Flink's YAML config file would have to nest a value under a value).
     * kubernetes.* keys belong to Flink's Kubernetes integration and the operator (not on this class path).
     */
    static void checkFlinkConfiguration(Map<String, String> props, String where) {
        Map<String, ConfigOption<?>> options = flinkOptions();
        Configuration conf = Configuration.fromMap(props);
        for (String key : props.keySet()) {
            if (key.startsWith("external-resource.gpu.")) {
                assertTrue(GPU_KEYS.contains(key.substring("external-resource.gpu.".length())), where + ": " + key);
                continue;
            }
            if (key.startsWith("kubernetes.")) {
                continue;
            }
            if (key.startsWith("metrics.reporter.")) {
                // Named reporters' keys are not ConfigOptions: the Prometheus reporter on its port.
                String rest = key.substring("metrics.reporter.".length());
                assertTrue(rest.equals("prom.factory.class") || rest.equals("prom.port"), where + ": " + key);
                if (rest.equals("prom.port")) {
                    new org.apache.flink.util.PortRange(props.get(key));
                } else {
                    assertEquals("org.apache.flink.metrics.prometheus.PrometheusReporterFactory", props.get(key), where);
                }
                continue;
            }
            ConfigOption<?> option = options.get(key);
            assertNotNull(option, where + ": " + key + " is not a Flink 2.2 configuration key");
            try {
                conf.get(option);
            } catch (RuntimeException e) {
                fail(where + ": bad value for " + key + ": " + props.get(key) + " (" + e.getMessage() + ")");
            }
        }
        Set<String> keys = new TreeSet<>(props.keySet());
        keys.addAll(List.of("jobmanager.rpc.address", "blob.server.port", "query.server.port", "taskmanager.numberOfTaskSlots"));
        for (String a : keys) {
            for (String b : keys) {
                assertFalse(b.startsWith(a + "."), where + ": key " + a + " is a prefix of " + b);
            }
        }
    }

    // ================================================================== Dockerfile

    static List<DeployFiles.Instruction> dockerfile() {
        return DeployFiles.dockerfile(DOCKERFILE);
    }

    static List<DeployFiles.Instruction> finalStage() {
        List<DeployFiles.Instruction> all = dockerfile();
        int last = all.get(all.size() - 1).stageIndex();
        return all.stream().filter(i -> i.stageIndex() == last).toList();
    }

    /** Where a final-stage COPY puts something, by the stage or file it copies from. */
    static String copyDestination(String fromStage, String sourcePrefix) {
        for (DeployFiles.Instruction i : finalStage()) {
            if (!i.keyword().equals("COPY")) {
                continue;
            }
            List<String> w = DeployFiles.shellWords(i.args());
            String from = w.stream().filter(s -> s.startsWith("--from=")).map(s -> s.substring(7)).findFirst().orElse(null);
            List<String> paths = w.stream().filter(s -> !s.startsWith("--")).toList();
            if (java.util.Objects.equals(from, fromStage) && paths.get(0).startsWith(sourcePrefix)) {
                String dest = paths.get(paths.size() - 1);
                return dest.endsWith("/") ? dest.substring(0, dest.length() - 1) : dest;
            }
        }
        throw new AssertionError("the final stage copies nothing from " + fromStage + " " + sourcePrefix);
    }

    static String imageJarPath() {
        return copyDestination("jar", "/specdec-job.jar");
    }

    static String imageModelPath() {
        return copyDestination("model", "/model");
    }

    @Test
    void imageRecipe() {
        List<DeployFiles.Instruction> stage = finalStage();
        assertEquals("flink:2.2.1-java17", stage.get(0).args(), "the final image is the official Flink 2.2.1 Java 17 image");
        assertEquals("flink:" + DeployFiles.pomProperty(ROOT, "flink.version") + "-java17", stage.get(0).args());

        Map<String, String> env = DeployFiles.envPairs(stage);
        assertEquals("true", env.get("DJL_OFFLINE"));
        assertEquals("true", env.get("OPT_OUT_TRACKING"));
        // The glibc thresholds bin/specdec exports, with the same values.
        Matcher m = Pattern.compile("export (MALLOC_[A-Z_]+)=\\$\\{MALLOC_[A-Z_]+:-(\\d+)}")
                .matcher(DeployFiles.read(ROOT.resolve("bin/specdec")));
        int n = 0;
        while (m.find()) {
            assertEquals(m.group(2), env.get(m.group(1)), m.group(1));
            n++;
        }
        assertEquals(3, n, "bin/specdec sets three MALLOC_ variables");
        assertEquals("true", env.get("DISABLE_JEMALLOC"), "the MALLOC_ settings are glibc's: no jemalloc preload");
        assertEquals("${PYTORCH_FLAVOR}", env.get("PYTORCH_FLAVOR"), "DJL picks the cached flavour at run time");
        String cache = env.get("DJL_CACHE_DIR");
        assertEquals(cache, copyDestination("natives", "/natives/djl-cache"), "the natives fetched at build time");
        assertEquals("/opt/flink/lib", copyDestination("natives", "/natives/lib"), "pytorch-native-cpu jar goes to lib/");

        assertEquals("/opt/flink/usrlib/specdec-job.jar", imageJarPath());
        assertEquals("/opt/specdec/models/kjv-llama-12m", imageModelPath());
        assertEquals("/opt/specdec/bin/submit-job.sh", copyDestination(null, "deploy/docker/submit-job.sh"));
        assertEquals("flink", stage.get(stage.size() - 1).args(), "the image runs as the flink user");
    }

    @Test
    void imageBuildStages() {
        List<DeployFiles.Instruction> all = dockerfile();
        String text = DeployFiles.read(DOCKERFILE);
        assertTrue(text.startsWith("# syntax=docker/dockerfile:1"), "BuildKit syntax (cache mounts, per-Dockerfile ignore file)");
        assertTrue(all.stream().anyMatch(i -> i.keyword().equals("RUN") && "jar-build".equals(i.stage())
                && i.args().contains("mvn -B -DskipTests package")), "stage jar-build builds the project with Maven");
        String jarName = "specdec-job-" + DeployFiles.pomProperty(ROOT, "version") + "-flink.jar";
        assertTrue(all.stream().anyMatch(i -> "jar-prebuilt".equals(i.stage()) && i.keyword().equals("COPY")
                && i.args().startsWith("job/target/" + jarName)), "stage jar-prebuilt takes " + jarName);
        assertTrue(text.contains("FROM jar-${JAR_SOURCE} AS jar"));
        Map<String, String> args = new LinkedHashMap<>();
        for (DeployFiles.Instruction i : all) {
            if (i.keyword().equals("ARG") && i.args().contains("=")) {
                args.put(i.args().substring(0, i.args().indexOf('=')), i.args().substring(i.args().indexOf('=') + 1));
            }
        }
        assertEquals(DeployFiles.pomProperty(ROOT, "pytorch.native.version"), args.get("PYTORCH_NATIVE_VERSION"));
        assertEquals(DeployFiles.pomProperty(ROOT, "slf4j.version"), args.get("SLF4J_VERSION"));
        assertEquals("cu128", args.get("PYTORCH_FLAVOR"));
        assertEquals("build", args.get("JAR_SOURCE"));
        // DJL's PyTorch for this version, and the JNI library for each flavour the recipe offers, exist.
        for (String flavor : List.of("cpu", "cu128")) {
            assertNotNull(FlinkJobMain.class.getResource("/jnilib/linux-x86_64/" + flavor + "/libdjl_torch.so"),
                    "pytorch-jni in the job jar has a " + flavor + " build");
        }
        assertTrue(DeployFiles.read(ROOT.resolve("deploy/docker/PrefetchNatives.java")).contains("\"ai.djl.pytorch.jni.LibUtils\""));
        assertTrue(text.contains("-Dartifact=ai.djl.pytorch:pytorch-native-cpu:${PYTORCH_NATIVE_VERSION}:jar:linux-x86_64"));
        assertTrue(text.contains("DJL_OFFLINE=false") && text.contains("PYTORCH_FLAVOR=\"${PYTORCH_FLAVOR}\""),
                "the native download happens at build time, for the flavour asked for");
        // DJL's pytorch-engine defaults to the PyTorch version the image ships (no PYTORCH_VERSION needed).
        assertEquals(DeployFiles.pomProperty(ROOT, "pytorch.native.version"), pytorchVersionOfEngine());
    }

    static String pytorchVersionOfEngine() {
        try (var in = FlinkJobMain.class.getResourceAsStream("/pytorch-engine.properties")) {
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("pytorch_version");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void buildContextLeavesOutTrainingLeftovers() {
        Path ignore = ROOT.resolve("deploy/docker/Dockerfile.dockerignore");
        assertTrue(Files.isRegularFile(ignore), "BuildKit reads <Dockerfile>.dockerignore next to the Dockerfile");
        List<String> patterns = List.of(DeployFiles.read(ignore).split("\n"));
        for (String excluded : List.of("models/kjv-llama-12m/checkpoints/step-001200.safetensors",
                "models/kjv-llama-12m/drafter-ctc/checkpoints/step-000600.safetensors",
                "models/kjv-llama-12m/drafter-ctc/features/shard-0.bin",
                "models/kjv-llama-12m/drafter-medusa/features/shard-0.bin",
                "engine/target/classes/x.class", "job/target/classes/x.class", "data/kjv/train.txt", ".git/HEAD")) {
            assertTrue(DeployFiles.dockerIgnored(patterns, excluded), excluded + " must stay out of the build context");
        }
        for (String included : List.of("models/kjv-llama-12m/config.json", "models/kjv-llama-12m/model.safetensors",
                "models/kjv-llama-12m/drafter-ctc/drafter.json", "engine/src/main/java/dev/specdec/engine/cli/Defaults.java",
                "job/target/specdec-job-0.1.0-SNAPSHOT-flink.jar", "pom.xml")) {
            assertFalse(DeployFiles.dockerIgnored(patterns, included), included + " is needed by the build");
        }
        // Every file or folder the recipe copies from the context exists (the prebuilt jar only after a build)
        // and is not ignored.
        for (DeployFiles.Instruction i : dockerfile()) {
            if (!i.keyword().equals("COPY") || i.args().contains("--from=")) {
                continue;
            }
            List<String> w = DeployFiles.shellWords(i.args()).stream().filter(s -> !s.startsWith("--")).toList();
            for (String src : w.subList(0, w.size() - 1)) {
                assertFalse(DeployFiles.dockerIgnored(patterns, src), src + " is copied but ignored");
                if (!src.startsWith("job/target/")) {
                    assertTrue(Files.exists(ROOT.resolve(src)), "COPY source " + src + " exists");
                }
            }
        }
        // The model stage also prunes them, in case the ignore file is not used (legacy builder).
        assertTrue(DeployFiles.read(DOCKERFILE).contains("rm -rf /model/checkpoints /model/features /model/*/checkpoints /model/*/features"));
    }

    // ================================================================== Kubernetes

    static Map<Path, List<Map<String, Object>>> manifests() {
        Map<Path, List<Map<String, Object>>> out = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(K8S)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                if (!p.getFileName().toString().equals("kustomization.yaml")) {
                    out.put(p, DeployFiles.yamlDocuments(p));
                }
            }
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        return out;
    }

    static List<Map<String, Object>> docs(String kind) {
        return manifests().values().stream().flatMap(List::stream).filter(d -> kind.equals(d.get("kind"))).toList();
    }

    static Map<String, Object> flinkDeployment() {
        List<Map<String, Object>> fds = docs("FlinkDeployment");
        assertEquals(1, fds.size(), "one FlinkDeployment");
        return fds.get(0);
    }

    static Map<String, Object> mainContainer(Object podTemplate, String where) {
        for (Object c : list(at(podTemplate, "spec", "containers"), where + " containers")) {
            if ("flink-main-container".equals(at(c, "name"))) {
                return map(c, "flink-main-container");
            }
        }
        throw new AssertionError(where + " has no flink-main-container");
    }

    @Test
    void everyManifestParsesAndIsListed() {
        Map<Path, List<Map<String, Object>>> all = manifests();
        assertTrue(all.size() >= 5, all.keySet().toString());
        for (Map.Entry<Path, List<Map<String, Object>>> f : all.entrySet()) {
            assertFalse(f.getValue().isEmpty(), f.getKey() + " is empty");
            for (Map<String, Object> d : f.getValue()) {
                assertNotNull(d.get("apiVersion"), f.getKey() + ": apiVersion");
                assertNotNull(d.get("kind"), f.getKey() + ": kind");
                assertNotNull(at(d, "metadata", "name"), f.getKey() + ": metadata.name");
                if (!"Namespace".equals(d.get("kind"))) {
                    assertEquals("specdec", at(d, "metadata", "namespace"), f.getKey() + " " + at(d, "metadata", "name"));
                }
            }
        }
        Map<String, Object> k = DeployFiles.yaml(K8S.resolve("kustomization.yaml"));
        assertEquals("specdec", k.get("namespace"));
        Set<String> listed = new LinkedHashSet<>(strings(k.get("resources"), "resources"));
        Set<String> expected = all.keySet().stream().map(p -> p.getFileName().toString())
                .filter(n -> !n.equals("kafka-dev.yaml") && !n.equals("podmonitor.yaml"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(expected, new TreeSet<>(listed),
                "kustomization.yaml lists every manifest but kafka-dev.yaml and podmonitor.yaml (it needs the Prometheus Operator)");
        for (String conf : strings(k.get("configurations"), "configurations")) {
            Map<String, Object> c = DeployFiles.yaml(K8S.resolve(conf));
            assertEquals("spec/image", at(list(c.get("images"), "images").get(0), "path"));
            assertEquals("FlinkDeployment", at(list(c.get("images"), "images").get(0), "kind"));
        }
        String image = (String) at(flinkDeployment(), "spec", "image");
        assertEquals(image.substring(0, image.indexOf(':')), at(list(k.get("images"), "images").get(0), "name"),
                "kustomization.yaml's images entry renames the FlinkDeployment image");
    }

    @Test
    void flinkDeploymentRunsTheJobOnGpuTaskManagers() {
        Map<String, Object> fd = flinkDeployment();
        assertEquals("flink.apache.org/v1beta1", fd.get("apiVersion"));
        Map<String, Object> spec = map(fd.get("spec"), "spec");
        String flink = DeployFiles.pomProperty(ROOT, "flink.version");
        assertEquals("v" + flink.substring(0, flink.lastIndexOf('.')).replace('.', '_'), spec.get("flinkVersion"));
        String composeImage = (String) service(compose(), "taskmanager").get("image");
        assertEquals(composeImage, spec.get("image"), "the CUDA image the compose file builds");

        Map<String, String> conf = flinkConfiguration(spec);
        checkFlinkConfiguration(conf, "FlinkDeployment");
        int slots = Integer.parseInt(conf.get(TaskManagerOptions.NUM_TASK_SLOTS.key()));
        String configKey = conf.get(ExternalResourceOptions.getSystemConfigKeyConfigOptionForResource("gpu", "kubernetes.config-key"));
        if (configKey != null) {
            // GPUs requested by Flink's external-resource framework (it sets the pod's limits).
            assertEquals("nvidia.com/gpu", configKey);
            checkGpuResource(conf, "FlinkDeployment");
            assertEquals(slots, Integer.parseInt(conf.get(ExternalResourceOptions.getAmountConfigOptionForResource("gpu"))),
                    "one slot per GPU");
        } else {
            Object limit = at(mainContainer(at(spec, "taskManager", "podTemplate"), "taskManager.podTemplate"),
                    "resources", "limits", "nvidia.com/gpu");
            assertNotNull(limit, "TaskManagers need nvidia.com/gpu (external-resource keys or a pod template limit)");
            assertEquals(String.valueOf(slots), String.valueOf(limit), "one slot per GPU");
        }

        Map<String, Object> job = map(spec.get("job"), "job");
        assertEquals("savepoint", job.get("upgradeMode"));
        assertEquals("running", job.get("state"));
        assertEquals("local://" + imageJarPath(), job.get("jarURI"));
        assertEquals(FlinkJobMain.class.getName(), job.get("entryClass"));
        JobArgs args = JobArgs.parse(strings(job.get("args"), "job.args"));
        assertEquals(job.get("parallelism"), args.option("--parallelism"));
        assertEquals("auto", args.option("--device"));
    }

    static Map<String, String> flinkConfiguration(Map<String, Object> spec) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : map(spec.get("flinkConfiguration"), "flinkConfiguration").entrySet()) {
            assertTrue(e.getValue() instanceof String, "flinkConfiguration values are strings: " + e.getKey() + "=" + e.getValue());
            out.put(e.getKey(), (String) e.getValue());
        }
        return out;
    }

    /** Mount path to the claim name of the PVC-backed volumes of the pod template's flink-main-container. */
    static Map<String, String> pvcMounts(Map<String, Object> spec) {
        Object podTemplate = spec.get("podTemplate");
        Map<String, String> claims = new HashMap<>();
        for (Object v : list(at(podTemplate, "spec", "volumes"), "volumes")) {
            Object claim = at(v, "persistentVolumeClaim", "claimName");
            if (claim != null) {
                claims.put((String) at(v, "name"), (String) claim);
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Object m : list(mainContainer(podTemplate, "podTemplate").get("volumeMounts"), "volumeMounts")) {
            String claim = claims.get((String) at(m, "name"));
            if (claim != null) {
                out.put((String) at(m, "mountPath"), claim);
            }
        }
        return out;
    }

    static String claimFor(Map<String, String> mounts, String path, String what) {
        return mounts.entrySet().stream().filter(e -> under(path, e.getKey())).map(Map.Entry::getValue).findFirst()
                .orElseThrow(() -> new AssertionError(what + " " + path + " is not on a persistent volume " + mounts));
    }

    @Test
    void flinkDeploymentKeepsStateOnPersistentVolumes() {
        Map<String, Object> spec = map(flinkDeployment().get("spec"), "spec");
        Map<String, String> conf = flinkConfiguration(spec);
        checkCheckpointing(conf, "FlinkDeployment");
        Set<String> pvcs = docs("PersistentVolumeClaim").stream().map(d -> (String) at(d, "metadata", "name"))
                .collect(Collectors.toSet());
        Map<String, String> mounts = pvcMounts(spec);
        for (ConfigOption<String> dir : List.of(CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                CheckpointingOptions.SAVEPOINT_DIRECTORY, HighAvailabilityOptions.HA_STORAGE_PATH)) {
            String claim = claimFor(mounts, fileUriPath(conf.get(dir.key()), dir.key()), dir.key());
            assertTrue(pvcs.contains(claim), "claim " + claim + " is defined in deploy/k8s");
        }
        assertEquals("kubernetes", conf.get(HighAvailabilityOptions.HA_MODE.key()));
        String sa = (String) spec.get("serviceAccount");
        assertTrue(docs("ServiceAccount").stream().anyMatch(d -> sa.equals(at(d, "metadata", "name"))), sa);
        assertTrue(docs("RoleBinding").stream().anyMatch(d -> list(d.get("subjects"), "subjects").stream()
                .anyMatch(s -> sa.equals(at(s, "name")))), "the service account is bound to a role");

        Map<String, String> env = DeployFiles.containerEnv(mainContainer(spec.get("podTemplate"), "podTemplate"));
        assertEquals("true", env.get("DJL_OFFLINE"));
        assertEquals("true", env.get("OPT_OUT_TRACKING"));
    }

    @Test
    void flinkDeploymentReadsTheModelFromAVolumeSeededFromTheImage() {
        Map<String, Object> spec = map(flinkDeployment().get("spec"), "spec");
        JobArgs args = JobArgs.parse(strings(at(spec, "job", "args"), "job.args"));
        String model = args.option("--model").toString();
        Map<String, String> mounts = pvcMounts(spec);
        String claim = claimFor(mounts, model, "--model");
        String mountPath = mounts.entrySet().stream().filter(e -> e.getValue().equals(claim)).findFirst().orElseThrow().getKey();
        Map<String, Object> seed = map(list(at(spec, "podTemplate", "spec", "initContainers"), "initContainers").get(0), "init");
        assertEquals(spec.get("image"), seed.get("image"), "the init container copies from the job's image");
        String script = String.join("\n", strings(seed.get("args"), "seed-model.args"));
        assertTrue(script.contains("cp -r " + imageModelPath() + " "), "it copies the model the image bundles");
        String name = model.substring(model.lastIndexOf('/') + 1);
        assertTrue(script.contains(mountPath + "/" + name), script);
        assertTrue(list(seed.get("volumeMounts"), "volumeMounts").stream()
                .anyMatch(m -> mountPath.equals(at(m, "mountPath"))), "it writes to the model volume");
        ShellSyntax.check("bash", script, "seed-model");
    }

    @Test
    void kubernetesTopicsAndKafka() {
        Map<String, Object> spec = map(flinkDeployment().get("spec"), "spec");
        KafkaEndpoint endpoint = JobArgs.parse(strings(at(spec, "job", "args"), "job.args")).endpoint();
        List<Map<String, Object>> jobs = docs("Job");
        assertEquals(1, jobs.size());
        Map<String, Object> container = map(list(at(jobs.get(0), "spec", "template", "spec", "containers"), "containers").get(0), "c");
        assertEquals("apache/kafka:4.2.0", container.get("image"));
        assertEquals(Boolean.FALSE, at(jobs.get(0), "spec", "template", "spec", "enableServiceLinks"));
        String script = String.join("\n", strings(container.get("args"), "args"));
        Map<String, String> created = DeployFiles.createdTopics(script);
        assertEquals(Set.of(endpoint.inputTopic(), endpoint.outputTopic(), endpoint.deadLetterTopic(), endpoint.chunkTopic()),
                created.keySet());
        assertEquals(Set.of(endpoint.bootstrapServers()), new LinkedHashSet<>(created.values()));
        ShellSyntax.check("sh", script, "specdec-topics");

        // The optional development Kafka serves that address and allows the sink's transactions.
        List<Map<String, Object>> dev = DeployFiles.yamlDocuments(K8S.resolve("kafka-dev.yaml"));
        Map<String, Object> svc = dev.stream().filter(d -> "Service".equals(d.get("kind"))).findFirst().orElseThrow();
        String[] hostPort = endpoint.bootstrapServers().split(":");
        assertEquals(hostPort[0], at(svc, "metadata", "name"));
        assertEquals(Integer.parseInt(hostPort[1]), at(list(at(svc, "spec", "ports"), "ports").get(0), "port"));
        Map<String, Object> sts = dev.stream().filter(d -> "StatefulSet".equals(d.get("kind"))).findFirst().orElseThrow();
        assertEquals(Boolean.FALSE, at(sts, "spec", "template", "spec", "enableServiceLinks"));
        Map<String, String> env = DeployFiles.containerEnv(map(list(at(sts, "spec", "template", "spec", "containers"), "c").get(0), "c"));
        Properties props = kafkaBrokerProperties(env, "kafka-dev.yaml");
        assertTrue(props.getProperty("advertised.listeners").contains("://" + endpoint.bootstrapServers()));
        long brokerMax = Long.parseLong(props.getProperty("transaction.max.timeout.ms"));
        assertTrue(endpoint.transactionTimeout().toMillis() <= brokerMax, "dev Kafka allows the sink's transactions");
        // ... and so does any Kafka left at the default transaction.max.timeout.ms.
        Object dflt = kafka.server.KafkaConfig.configDef().defaultValues().get("transaction.max.timeout.ms");
        assertTrue(endpoint.transactionTimeout().toMillis() <= ((Number) dflt).longValue(),
                "--transaction-timeout within Kafka's default limit " + dflt + " ms");
    }

    // ================================================================== deploy/README.md

    @Test
    void guideCommandsParse() {
        String guide = DeployFiles.read(ROOT.resolve("deploy/README.md"));
        int n = 0;
        for (String raw : guide.split("\n")) {
            String line = raw.strip();
            int hash = line.indexOf(" #");
            if (hash > 0) {
                line = line.substring(0, hash).strip();
            }
            List<String> w = DeployFiles.shellWords(line);
            if (w.size() < 2 || !w.get(0).equals("./bin/specdec")) {
                continue;
            }
            Object command = switch (w.get(1)) {
                case "submit" -> new SubmitCommand();
                case "tail" -> new TailCommand();
                default -> null;
            };
            if (command == null) {
                continue;
            }
            new picocli.CommandLine(command).parseArgs(w.subList(2, w.size()).toArray(String[]::new));
            n++;
        }
        assertTrue(n >= 2, "the guide shows submit and tail");
        assertTrue(guide.contains("--bootstrap-servers localhost:9092"));
        assertTrue(guide.contains("http://localhost:8081"));
        for (String file : List.of("docker-compose.yml", "docker-compose.cpu.yml", "deploy/docker/Dockerfile",
                "deploy/k8s/kafka-dev.yaml")) {
            assertTrue(guide.contains(file), "the guide mentions " + file);
            assertTrue(Files.exists(ROOT.resolve(file)), file);
        }
    }

    // ================================================================== parsed commands

    /** A {@code flink run} command line, as Flink 2.2's CLI parses it. */
    record FlinkRun(String entryClass, String jobManager, boolean detached, String jar, List<String> programArgs) {
        static FlinkRun parse(List<String> command) {
            assertEquals(List.of("flink", "run"), command.subList(0, 2), "the command is `flink run ...`");
            Options options = CliFrontendParser.getRunCommandOptions();
            DefaultCLI cli = new DefaultCLI();
            cli.addRunOptions(options);
            cli.addGeneralOptions(options);
            try {
                org.apache.commons.cli.CommandLine line = CliFrontendParser.parse(options,
                        command.subList(2, command.size()).toArray(String[]::new), true);
                List<String> rest = line.getArgList();
                assertFalse(rest.isEmpty(), "flink run needs the jar");
                return new FlinkRun(line.getOptionValue("c"), line.getOptionValue("m"), line.hasOption("d"),
                        rest.get(0), List.copyOf(rest.subList(1, rest.size())));
            } catch (Exception e) {
                throw new AssertionError("flink run rejects " + command + ": " + e.getMessage(), e);
            }
        }
    }

    /** The job's arguments, parsed by the job's own command line (FlinkJobMain from the job jar). */
    record JobArgs(picocli.CommandLine.ParseResult result, FlinkJobMain main) {
        static JobArgs parse(List<String> args) {
            FlinkJobMain main = new FlinkJobMain();
            picocli.CommandLine.ParseResult r = new picocli.CommandLine(main).parseArgs(args.toArray(String[]::new));
            JobArgs parsed = new JobArgs(r, main);
            // What the job builds from them before submitting must be valid too.
            ((DecodeOptions) parsed.field("decode")).clusterSettings();
            ((SamplingOptions) parsed.field("sampling")).toParams(RequestJson.DEFAULT_MAX_NEW_TOKENS);
            parsed.endpoint();
            return parsed;
        }

        <T> T option(String name) {
            picocli.CommandLine.Model.OptionSpec o = result.commandSpec().findOption(name);
            assertNotNull(o, "FlinkJobMain has no option " + name);
            return o.getValue();
        }

        KafkaEndpoint endpoint() {
            try {
                return ((KafkaOptions) field("kafka")).endpoint();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        Object field(String name) {
            try {
                Field f = FlinkJobMain.class.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(main);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** {@code sh -n}/{@code bash -n} on scripts embedded in the YAML files, where the shell exists. */
    static final class ShellSyntax {
        private ShellSyntax() {
        }

        static void check(String shell, String script, String what) {
            if (!Files.isExecutable(Path.of("/bin/" + shell))) {
                return;
            }
            try {
                Path f = Files.createTempFile("specdec-deploy", ".sh");
                try {
                    Files.writeString(f, script);
                    Process p = new ProcessBuilder("/bin/" + shell, "-n", f.toString()).redirectErrorStream(true).start();
                    String out = new String(p.getInputStream().readAllBytes());
                    assertEquals(0, p.waitFor(), what + ": " + shell + " -n: " + out);
                } finally {
                    Files.deleteIfExists(f);
                }
            } catch (java.io.IOException | InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}

package dev.specdec.job.cli;

import dev.specdec.job.ingest.RequestLimits;

import dev.specdec.engine.ForwardMode;
import dev.specdec.engine.cli.Defaults;
import dev.specdec.engine.cli.DrafterOptions;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.speculative.DrafterConfig;
import dev.specdec.job.decode.DecodeSettings;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/** Model, drafter and decode-operator options shared by the job commands (the drafter options are the engine's). */
public final class DecodeOptions {
    @Option(names = "--model", description = "HuggingFace checkpoint folder (default: the bundled model).")
    Path model;

    @Option(names = "--chat-template", paramLabel = "FILE",
            description = {"Jinja chat template for requests with messages, instead of the model's own",
                    "(chat_template.jinja or tokenizer_config.json); e.g. deploy/chat-templates/plain.jinja."})
    Path chatTemplate;

    /** The default method of requests that do not choose one, and its decoder settings. */
    @Mixin
    public DrafterOptions drafter;

    @Option(names = "--forward", defaultValue = "compiled",
            description = "compiled (each forward pass one TorchScript call; default) or eager (one DJL call per operation).")
    String forward;

    @Option(names = "--batch-size", defaultValue = "8", description = "Requests decoded together per subtask (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--queue-factor", defaultValue = "4",
            description = "Admission limit per subtask as a multiple of the batch size (default ${DEFAULT-VALUE}).")
    int queueFactor;

    @Option(names = "--device", defaultValue = "auto",
            description = "Verify-stage device: auto (the slot's GPU if Flink assigns one, else CPU), cpu, gpu or gpu:N.")
    String device;

    @Option(names = "--draft-device", defaultValue = "same", description = "Draft-stage device: same (default) or the verify device.")
    String draftDevice;

    @Option(names = "--cache-checkpoint", defaultValue = "compact",
            description = "KV caches in checkpoints: compact (token ids; re-prefill on restore) or full-tensor.")
    String cacheCheckpoint;

    @Option(names = "--request-timeout", converter = DurationConverter.class,
            description = "Deadline of requests without timeout_ms (e.g. 10m; default none).")
    Duration requestTimeout;

    @Option(names = "--warm-up-tokens", defaultValue = "16",
            description = {"Tokens a full batch of synthetic requests decodes when a slot opens, so that the first",
                    "real requests do not pay for a cold engine (0: no warm-up; default ${DEFAULT-VALUE})."})
    int warmUpTokens;

    @Option(names = "--intra-op-threads", defaultValue = "0",
            description = {"PyTorch threads per decode engine (default 0: automatic, one core left to Flink and the",
                    "rest split among the TaskManager's slots; 1 on a 2-core machine)."})
    int intraOpThreads;

    @Option(names = "--request-limit", paramLabel = "NAME=VALUE",
            description = "Raise or lower a bound on one request (repeatable): record-bytes (1048576), prompt-bytes"
                    + " (262144), id-bytes (256), messages (256), stop-strings (16), stop-length (256),"
                    + " metadata-entries (64), metadata-bytes (16384).")
    List<String> requestLimits;

    /** What one request may hold: the defaults with the {@code --request-limit} settings applied. */
    public RequestLimits limits() {
        return RequestLimits.parse(requestLimits);
    }

    public Path modelDir() {
        Path p = model != null ? model : Defaults.bundledModel();
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException("model folder " + p + " does not exist"
                    + (model == null ? " (train the bundled model first, or pass --model)" : ""));
        }
        return p.toAbsolutePath();
    }

    /** Settings for a job on this machine: the model folder and the default drafter are checked here first. */
    public DecodeSettings settings() {
        // Absolute: the TaskManagers of a session cluster may run in another working folder.
        Path dir = modelDir().toAbsolutePath();
        DecodingMethod method = drafter.method(dir);
        if (method.hasDrafterFolder()) {
            Path d = method.drafterDir(dir, drafter.drafterDir());
            try {
                DrafterConfig.load(d);
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("cannot read the drafter in " + d + ": " + e.getMessage());
            }
        }
        return settings(dir.toString(), method);
    }

    /**
     * Settings with the model folder as given, unchecked: for a job submitted to a cluster, whose
     * TaskManagers (not the client) must have the folder. {@code auto} there is ctc when the folder
     * cannot be seen from here.
     */
    public DecodeSettings clusterSettings() {
        if (model == null) {
            throw new IllegalArgumentException("--model is required: the folder where the TaskManagers find the model");
        }
        DecodingMethod method = Files.isDirectory(model) ? drafter.method(model)
                : drafter.name().equalsIgnoreCase(DecodingMethod.AUTO) ? DecodingMethod.CTC
                : DecodingMethod.parse(drafter.name());
        return settings(model.toString(), method);
    }

    /** The text of the --chat-template file, read here so that it travels with the job; null without one. */
    String chatTemplateText() {
        if (chatTemplate == null) {
            return null;
        }
        try {
            return Files.readString(chatTemplate, StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read the chat template " + chatTemplate + ": " + e.getMessage());
        }
    }

    private DecodeSettings settings(String modelPath, DecodingMethod method) {
        return DecodeSettings.builder()
                .model(modelPath)
                .chatTemplate(chatTemplateText())
                .defaultMethod(method)
                .decoder(drafter.decoderOptions())
                .forward(ForwardMode.parse(forward))
                .maxBatch(batchSize)
                .queueFactor(queueFactor)
                .verifyDevice(device)
                .draftDevice(draftDevice)
                .cacheCheckpoint(cacheMode(cacheCheckpoint))
                .defaultTimeout(requestTimeout == null ? Duration.ZERO : requestTimeout)
                .warmUpTokens(warmUpTokens)
                .intraOpThreads(intraOpThreads)
                .build();
    }

    static DecodeSettings.CacheCheckpoint cacheMode(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        return switch (n) {
            case "compact" -> DecodeSettings.CacheCheckpoint.COMPACT;
            case "full-tensor", "full" -> DecodeSettings.CacheCheckpoint.FULL_TENSOR;
            default -> throw new IllegalArgumentException("--cache-checkpoint must be compact or full-tensor, got " + name);
        };
    }
}

package dev.specdec.job.cli;

import dev.specdec.engine.cli.Defaults;
import dev.specdec.engine.spec.DrafterConfig;
import dev.specdec.job.decode.DecodeSettings;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/** Model, drafter and decode-operator options shared by the job commands. */
public final class DecodeOptions {
    @Option(names = "--model", description = "HuggingFace checkpoint folder (default: the bundled model).")
    Path model;

    @Option(names = "--drafter", defaultValue = "auto",
            description = {"Decoder for requests that do not choose: ctc, ctc-faithful, medusa, none, or auto",
                    "(default: ctc when the model folder has a CTC drafter, else none)."})
    String drafter;

    @Option(names = "--drafter-dir", description = "Folder of the default drafter (default: drafter-ctc/ or drafter-medusa/ beside the model).")
    Path drafterDir;

    @Option(names = "--tree", description = "Draft tree: paper, ranked:N or chain:N (default from drafter.json).")
    String tree;

    @Option(names = "--draft-width", description = "Candidates kept per draft depth (default from drafter.json).")
    Integer draftWidth;

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
        Path dir = modelDir();
        if (!drafter.equals("none")) {
            Path d = drafterDir != null ? drafterDir
                    : dir.resolve(drafter.equals("medusa") ? Defaults.MEDUSA_DRAFTER : Defaults.CTC_DRAFTER);
            try {
                DrafterConfig.load(d);
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("cannot read the drafter in " + d + ": " + e.getMessage());
            }
        }
        return settings(dir.toString());
    }

    /**
     * Settings with the model folder as given, unchecked: for a job submitted to a cluster, whose
     * TaskManagers (not the client) must have the folder.
     */
    public DecodeSettings clusterSettings() {
        if (model == null) {
            throw new IllegalArgumentException("--model is required: the folder where the TaskManagers find the model");
        }
        return settings(model.toString());
    }

    /**
     * {@code auto}: ctc when the model folder (seen from here) has a CTC drafter, none when it has
     * not; a folder that exists only on the TaskManagers keeps ctc.
     */
    private String resolveDrafter(String modelPath) {
        if (!drafter.equals("auto")) {
            return drafter;
        }
        Path dir = drafterDir != null ? drafterDir : Path.of(modelPath).resolve("drafter-ctc");
        if (!java.nio.file.Files.isDirectory(Path.of(modelPath))) {
            return "ctc";
        }
        return java.nio.file.Files.isRegularFile(dir.resolve("drafter.json")) ? "ctc" : "none";
    }

    private DecodeSettings settings(String modelPath) {
        return DecodeSettings.builder()
                .model(modelPath)
                .defaultDrafter(resolveDrafter(modelPath))
                .drafterDir(drafterDir == null ? null : drafterDir.toAbsolutePath().toString())
                .tree(tree)
                .draftWidth(draftWidth)
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

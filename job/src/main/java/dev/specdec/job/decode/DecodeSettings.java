package dev.specdec.job.decode;

import dev.specdec.engine.EngineSession;
import dev.specdec.engine.TorchThreads;

import java.io.Serializable;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * How the decode operator decodes: which model (a path, loaded in each slot's {@code open()}, never
 * shipped in the job graph), which drafter by default, batch and admission sizes, the devices of
 * the draft and verify stages, the checkpoint form of the KV caches and the default request
 * deadline. Built and checked by {@link #builder()}.
 */
public final class DecodeSettings implements Serializable {
    private static final long serialVersionUID = 1L;

    /** How KV caches appear in checkpoints. */
    public enum CacheCheckpoint {
        /** Token ids and counters only; caches are rebuilt by re-prefill after a restore. */
        COMPACT,
        /** Also the cache tensors (base KV rows and drafter state): larger checkpoints, no re-prefill. */
        FULL_TENSOR
    }

    private final String modelDir;
    private final String defaultDrafter;
    private final String drafterDir;
    private final String tree;
    private final Integer draftWidth;
    private final int maxBatch;
    private final int queueFactor;
    private final String verifyDevice;
    private final String draftDevice;
    private final CacheCheckpoint cacheCheckpoint;
    private final long defaultTimeoutMillis;
    private final int warmUpTokens;
    private final int intraOpThreads;
    private final boolean streamChunks;

    private DecodeSettings(Builder b) {
        this.modelDir = b.modelDir;
        this.defaultDrafter = b.defaultDrafter;
        this.drafterDir = b.drafterDir;
        this.tree = b.tree;
        this.draftWidth = b.draftWidth;
        this.maxBatch = b.maxBatch;
        this.queueFactor = b.queueFactor;
        this.verifyDevice = b.verifyDevice;
        this.draftDevice = b.draftDevice;
        this.cacheCheckpoint = b.cacheCheckpoint;
        this.defaultTimeoutMillis = b.defaultTimeout.toMillis();
        this.warmUpTokens = b.warmUpTokens;
        this.intraOpThreads = b.intraOpThreads;
        this.streamChunks = b.streamChunks;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these settings, to derive variants (another batch size, checkpoint form...). */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.modelDir = modelDir;
        b.defaultDrafter = defaultDrafter;
        b.drafterDir = drafterDir;
        b.tree = tree;
        b.draftWidth = draftWidth;
        b.maxBatch = maxBatch;
        b.queueFactor = queueFactor;
        b.verifyDevice = verifyDevice;
        b.draftDevice = draftDevice;
        b.cacheCheckpoint = cacheCheckpoint;
        b.defaultTimeout = Duration.ofMillis(defaultTimeoutMillis);
        b.warmUpTokens = warmUpTokens;
        b.intraOpThreads = intraOpThreads;
        b.streamChunks = streamChunks;
        return b;
    }

    public String modelDir() {
        return modelDir;
    }

    public String defaultDrafter() {
        return defaultDrafter;
    }

    /** Options for the decoder named {@code name}: the drafter folder override applies to the default drafter only. */
    public EngineSession.DecoderOptions decoderOptions(String name) {
        boolean mine = name.equals(defaultDrafter) || (name.startsWith("ctc") && defaultDrafter.startsWith("ctc"));
        return new EngineSession.DecoderOptions(mine && drafterDir != null ? java.nio.file.Path.of(drafterDir) : null,
                tree, draftWidth);
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** Requests one subtask holds at most (decoding plus queued); beyond it the input is backpressured. */
    public int admissionLimit() {
        return maxBatch * queueFactor;
    }

    public String verifyDevice() {
        return verifyDevice;
    }

    public String draftDevice() {
        return draftDevice;
    }

    public CacheCheckpoint cacheCheckpoint() {
        return cacheCheckpoint;
    }

    /** Deadline of requests that do not set their own, in milliseconds after arrival; 0 = none. */
    public long defaultTimeoutMillis() {
        return defaultTimeoutMillis;
    }

    /** Tokens each of a full batch of synthetic requests decodes when the engine opens; 0 = no warm-up. */
    public int warmUpTokens() {
        return warmUpTokens;
    }

    /** Whether the decode operator emits a {@code TokenChunk} per request and step (its side output). */
    public boolean streamChunks() {
        return streamChunks;
    }

    /** PyTorch intra-op threads per engine; 0 = {@link #intraOpThreads(int, int)} decides. */
    public int intraOpThreads() {
        return intraOpThreads;
    }

    /**
     * The intra-op threads an engine uses on a TaskManager with {@code cores} cores and {@code slots}
     * slots: the configured count, or by default one core left to Flink and the rest split among
     * the slots ({@link TorchThreads#forSlots}).
     */
    public int intraOpThreads(int cores, int slots) {
        return intraOpThreads > 0 ? intraOpThreads : TorchThreads.forSlots(cores, slots);
    }

    @Override
    public String toString() {
        return "model=" + modelDir + " drafter=" + defaultDrafter + " batch=" + maxBatch + " admission="
                + admissionLimit() + " verify-device=" + verifyDevice + " draft-device=" + draftDevice
                + " cache-checkpoint=" + cacheCheckpoint.name().toLowerCase(Locale.ROOT)
                + " intra-op-threads=" + (intraOpThreads == 0 ? "auto" : String.valueOf(intraOpThreads))
                + " warm-up-tokens=" + warmUpTokens + (streamChunks ? " stream-chunks" : "");
    }

    /** Collects and validates the settings; {@link #build()} throws IllegalArgumentException naming the bad one. */
    public static final class Builder {
        private String modelDir;
        private String defaultDrafter = "ctc";
        private String drafterDir;
        private String tree;
        private Integer draftWidth;
        private int maxBatch = 8;
        private int queueFactor = 4;
        private String verifyDevice = "auto";
        private String draftDevice = "same";
        private CacheCheckpoint cacheCheckpoint = CacheCheckpoint.COMPACT;
        private Duration defaultTimeout = Duration.ZERO;
        private int warmUpTokens = 16;
        private int intraOpThreads;
        private boolean streamChunks;

        private Builder() {
        }

        /** The HuggingFace checkpoint folder; it must exist wherever the task runs. */
        public Builder model(String dir) {
            this.modelDir = dir;
            return this;
        }

        /** Decoder for requests that do not choose: ctc, ctc-faithful, medusa or none. */
        public Builder defaultDrafter(String name) {
            this.defaultDrafter = name;
            return this;
        }

        /** Drafter folder for the default drafter (default: drafter-ctc/ or drafter-medusa/ beside the model). */
        public Builder drafterDir(String dir) {
            this.drafterDir = dir;
            return this;
        }

        /** Draft tree (paper, ranked:N, chain:N); null keeps the drafter's own setting. */
        public Builder tree(String tree) {
            this.tree = tree;
            return this;
        }

        public Builder draftWidth(Integer width) {
            this.draftWidth = width;
            return this;
        }

        /** Requests decoded together in one step per subtask. */
        public Builder maxBatch(int n) {
            this.maxBatch = n;
            return this;
        }

        /** Admission limit as a multiple of the batch (2-4 keeps drains short and backpressure early). */
        public Builder queueFactor(int n) {
            this.queueFactor = n;
            return this;
        }

        /** auto (the slot's GPU from Flink's external resources, else CPU), cpu, gpu or gpu:N. */
        public Builder verifyDevice(String device) {
            this.verifyDevice = device;
            return this;
        }

        /** same (as verify) or an explicit device; the engine runs the drafter on the base model's device. */
        public Builder draftDevice(String device) {
            this.draftDevice = device;
            return this;
        }

        public Builder cacheCheckpoint(CacheCheckpoint mode) {
            this.cacheCheckpoint = mode;
            return this;
        }

        public Builder defaultTimeout(Duration timeout) {
            this.defaultTimeout = timeout;
            return this;
        }

        /**
         * Warm-up when a slot opens: a full batch of synthetic requests decodes this many tokens
         * each (0: none). The first steps of a fresh engine run several times slower than later
         * ones; the warm-up takes that cost before the first real request instead of during it.
         */
        public Builder warmUpTokens(int tokens) {
            this.warmUpTokens = tokens;
            return this;
        }

        /**
         * PyTorch intra-op threads of each engine (0, the default: one core left to Flink's own
         * threads and the rest split among the TaskManager's slots).
         */
        public Builder intraOpThreads(int threads) {
            this.intraOpThreads = threads;
            return this;
        }

        /** Emit each step's new tokens and text as {@code TokenChunk}s (default off). */
        public Builder streamChunks(boolean on) {
            this.streamChunks = on;
            return this;
        }

        public DecodeSettings build() {
            if (modelDir == null || modelDir.isBlank()) {
                throw new IllegalArgumentException("a model folder is required");
            }
            if (!EngineSession.DECODERS.contains(defaultDrafter)) {
                throw new IllegalArgumentException("unknown drafter '" + defaultDrafter + "' (use one of "
                        + EngineSession.DECODERS + ")");
            }
            if (maxBatch < 1 || maxBatch > 1024) {
                throw new IllegalArgumentException("batch size must be in [1, 1024], got " + maxBatch);
            }
            if (queueFactor < 1 || queueFactor > 16) {
                throw new IllegalArgumentException("queue factor must be in [1, 16], got " + queueFactor);
            }
            DeviceSelector.checkName(verifyDevice, true);
            if (!draftDevice.equals("same")) {
                DeviceSelector.checkName(draftDevice, false);
                if (!draftDevice.equals(verifyDevice)) {
                    // The engine's draft module shares the base model's embedding and LM head tensors,
                    // so it cannot live on another device; say so instead of silently ignoring it.
                    throw new IllegalArgumentException("draft device '" + draftDevice + "' differs from verify device '"
                            + verifyDevice + "': the engine runs the drafter on the base model's device (use 'same')");
                }
            }
            Objects.requireNonNull(cacheCheckpoint, "cache checkpoint mode");
            if (defaultTimeout == null || defaultTimeout.isNegative()) {
                throw new IllegalArgumentException("default timeout must be >= 0");
            }
            if (warmUpTokens < 0 || warmUpTokens > 1024) {
                throw new IllegalArgumentException("warm-up tokens must be in [0, 1024], got " + warmUpTokens);
            }
            if (intraOpThreads < 0 || intraOpThreads > 1024) {
                throw new IllegalArgumentException("intra-op threads must be in [0, 1024] (0 = automatic), got "
                        + intraOpThreads);
            }
            if (draftWidth != null && draftWidth < 1) {
                throw new IllegalArgumentException("draft width must be at least 1");
            }
            return new DecodeSettings(this);
        }
    }
}

package dev.specdec.job.decode;

import dev.specdec.engine.DecoderOptions;
import dev.specdec.engine.ForwardMode;
import dev.specdec.engine.TorchThreads;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.serve.ServeOptions;

import java.io.Serializable;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * How the decode operator decodes: which model (a path, loaded in each slot's {@code open()}, never
 * shipped in the job graph), how its engine serves ({@link ServeOptions}: batch, method, decoder
 * settings, warm-up, threads, streaming), and what is the job's own: the admission limit, the devices
 * of the draft and verify stages, the checkpoint form of the KV caches and the default request
 * deadline. Built and checked by {@link #builder()}.
 */
public final class DecodeSettings implements Serializable {
    private static final long serialVersionUID = 3L;

    /** How KV caches appear in checkpoints. */
    public enum CacheCheckpoint {
        /** Token ids and counters only; caches are rebuilt by re-prefill after a restore. */
        COMPACT,
        /** Also the cache tensors (base KV rows and drafter state): larger checkpoints, no re-prefill. */
        FULL_TENSOR
    }

    private final String modelDir;
    /** The text of the --chat-template file, read where the job is built; null: the model's own template. */
    private final String chatTemplate;
    private final ServeOptions serve;
    private final int queueFactor;
    private final String verifyDevice;
    private final String draftDevice;
    private final CacheCheckpoint cacheCheckpoint;
    private final long defaultTimeoutMillis;

    private DecodeSettings(Builder b, ServeOptions serve) {
        this.modelDir = b.modelDir;
        this.chatTemplate = b.chatTemplate;
        this.serve = serve;
        this.queueFactor = b.queueFactor;
        this.verifyDevice = b.verifyDevice;
        this.draftDevice = b.draftDevice;
        this.cacheCheckpoint = b.cacheCheckpoint;
        this.defaultTimeoutMillis = b.defaultTimeout.toMillis();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these settings, to derive variants (another batch size, checkpoint form...). */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.modelDir = modelDir;
        b.chatTemplate = chatTemplate;
        b.defaultMethod = serve.defaultMethod();
        b.decoder = serve.decoder();
        b.forward = serve.forward();
        b.maxBatch = serve.maxBatch();
        b.warmUpTokens = serve.warmUpTokens();
        b.intraOpThreads = serve.intraOpThreads();
        b.streamChunks = serve.streamText();
        b.queueFactor = queueFactor;
        b.verifyDevice = verifyDevice;
        b.draftDevice = draftDevice;
        b.cacheCheckpoint = cacheCheckpoint;
        b.defaultTimeout = Duration.ofMillis(defaultTimeoutMillis);
        return b;
    }

    public String modelDir() {
        return modelDir;
    }

    /** The chat template that overrides the model's (the text, not a path: TaskManagers need no copy), or null. */
    public String chatTemplate() {
        return chatTemplate;
    }

    /** How each slot's engine serves. */
    public ServeOptions serve() {
        return serve;
    }

    /** The method of requests that do not choose one. */
    public DecodingMethod defaultMethod() {
        return serve.defaultMethod();
    }

    public int maxBatch() {
        return serve.maxBatch();
    }

    /** Whether the decode operator emits a {@code TokenChunk} per request and step (its side output). */
    public boolean streamChunks() {
        return serve.streamText();
    }

    /** Requests one subtask holds at most (decoding plus queued); beyond it the input is backpressured. */
    public int admissionLimit() {
        return serve.maxBatch() * queueFactor;
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

    /**
     * The intra-op threads an engine uses on a TaskManager with {@code cores} cores and {@code slots}
     * slots: the configured count, or by default one core left to Flink and the rest split among
     * the slots ({@link TorchThreads#forSlots}).
     */
    public int intraOpThreads(int cores, int slots) {
        return serve.intraOpThreads() > 0 ? serve.intraOpThreads() : TorchThreads.forSlots(cores, slots);
    }

    @Override
    public String toString() {
        return "model=" + modelDir + " drafter=" + serve.defaultMethod().wireName() + " batch=" + serve.maxBatch()
                + " admission=" + admissionLimit() + " verify-device=" + verifyDevice + " draft-device=" + draftDevice
                + " cache-checkpoint=" + cacheCheckpoint.name().toLowerCase(Locale.ROOT).replace('_', '-')
                + " intra-op-threads=" + (serve.intraOpThreads() == 0 ? "auto" : String.valueOf(serve.intraOpThreads()))
                + " warm-up-tokens=" + serve.warmUpTokens() + " forward=" + serve.forward().wireName()
                + " decoder=" + serve.decoder()
                + (serve.streamText() ? " stream-chunks" : "");
    }

    /** Collects and validates the settings; {@link #build()} throws IllegalArgumentException naming the bad one. */
    public static final class Builder {
        private String modelDir;
        private String chatTemplate;
        private DecodingMethod defaultMethod = DecodingMethod.CTC;
        private DecoderOptions decoder = DecoderOptions.DEFAULTS;
        private ForwardMode forward = ForwardMode.COMPILED;
        private int maxBatch = 8;
        private int warmUpTokens = 16;
        private int intraOpThreads;
        private boolean streamChunks;
        private int queueFactor = 4;
        private String verifyDevice = "auto";
        private String draftDevice = "same";
        private CacheCheckpoint cacheCheckpoint = CacheCheckpoint.COMPACT;
        private Duration defaultTimeout = Duration.ZERO;

        private Builder() {
        }

        /** The HuggingFace checkpoint folder; it must exist wherever the task runs. */
        /** The text of a chat template to use instead of the model's own; null: the model's. */
        public Builder chatTemplate(String template) {
            this.chatTemplate = template;
            return this;
        }

        public Builder model(String dir) {
            this.modelDir = dir;
            return this;
        }

        /** Method for requests that do not choose: ctc, ctc-faithful, medusa or none. */
        public Builder defaultDrafter(String name) {
            this.defaultMethod = DecodingMethod.parse(name);
            return this;
        }

        public Builder defaultMethod(DecodingMethod method) {
            this.defaultMethod = Objects.requireNonNull(method);
            return this;
        }

        /** Tree, width, chain stop and the default method's drafter folder (nulls: the folder's drafter.json). */
        public Builder decoder(DecoderOptions options) {
            this.decoder = Objects.requireNonNull(options);
            return this;
        }

        /** compiled (each forward pass one TorchScript call, the default) or eager. */
        public Builder forward(ForwardMode mode) {
            this.forward = Objects.requireNonNull(mode);
            return this;
        }

        /** Requests decoded together in one step per subtask. */
        public Builder maxBatch(int n) {
            this.maxBatch = n;
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

        public DecodeSettings build() {
            if (modelDir == null || modelDir.isBlank()) {
                throw new IllegalArgumentException("a model folder is required");
            }
            ServeOptions serve = new ServeOptions(maxBatch, warmUpTokens, intraOpThreads, streamChunks, defaultMethod,
                    decoder, forward);
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
            return new DecodeSettings(this, serve);
        }
    }
}

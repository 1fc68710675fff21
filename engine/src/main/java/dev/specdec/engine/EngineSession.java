package dev.specdec.engine;

import ai.djl.Device;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.decode.PlainDecoder;
import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.model.DraftModule;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.ModelFingerprint;
import dev.specdec.engine.model.MedusaHeads;
import dev.specdec.engine.model.ModelFormatException;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.speculative.CtcDrafter;
import dev.specdec.engine.speculative.CtcTransform;
import dev.specdec.engine.speculative.DrafterConfig;
import dev.specdec.engine.speculative.MedusaDrafter;
import dev.specdec.engine.speculative.NgramDrafter;
import dev.specdec.engine.speculative.SpeculativeDecoder;
import dev.specdec.engine.speculative.TreePolicy;
import dev.specdec.engine.tokenizer.TextTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;

/**
 * A loaded base model with its tokenizer and KV-cache pool, and the factory for its decoders (one
 * per {@link DecodingMethod}). Drafters live in folders beside the model ({@code drafter-ctc/},
 * {@code drafter-medusa/}) unless given explicitly. Not thread-safe: one session per engine thread.
 */
public final class EngineSession implements AutoCloseable {
    /** Longest chain the CTC drafter drafts for a {@code chain:N} tree (beyond this, acceptance is negligible). */
    static final int MAX_CTC_CHAIN = 32;
    /** Prompt lookup: n-grams of up to 3 tokens, proposals of up to 8 (vLLM's and llama.cpp's usual range). */
    static final int NGRAM_MAX_N = 3;
    static final int NGRAM_DEPTH = 8;
    static final String NGRAM_TREE = "auto";

    private final Path modelDir;
    private final LlamaModel model;
    private final TextTokenizer tokenizer;
    private final KvCachePool pool;
    private final int maxBatch;
    private final boolean ownsModel;
    private final ForwardMode forward;
    private String fingerprint;

    private EngineSession(Path modelDir, LlamaModel model, TextTokenizer tokenizer, KvCachePool pool, int maxBatch,
                          boolean ownsModel, ForwardMode forward) {
        this.modelDir = modelDir;
        this.model = model;
        this.tokenizer = tokenizer;
        this.pool = pool;
        this.maxBatch = maxBatch;
        this.ownsModel = ownsModel;
        this.forward = forward;
    }

    /** Opens a model with the default forward ({@link ForwardMode#COMPILED}). */
    public static EngineSession open(Path dir, Device device, int maxBatch) throws IOException {
        return open(dir, device, maxBatch, ForwardMode.COMPILED);
    }

    public static EngineSession open(Path dir, Device device, int maxBatch, ForwardMode forward) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException("model folder " + dir + " does not exist");
        }
        LlamaModel model = LlamaModel.load(dir, device);
        try {
            if (forward == ForwardMode.COMPILED) {
                model.compile();
            }
            TextTokenizer tok = TextTokenizer.load(dir);
            try {
                tok.requireFits(model.config.vocabSize, dir);
            } catch (RuntimeException e) {
                tok.close();
                throw e;
            }
            return new EngineSession(dir, model, tok, model.newCachePool(maxBatch, 256), maxBatch, true, forward);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * A session over a model its caller keeps (and closes), without a tokenizer: outputs have token
     * ids but no text. For the trainers, which decode with a model they already hold.
     */
    public static EngineSession around(LlamaModel model, int maxBatch) {
        return new EngineSession(model.directory, model, null, model.newCachePool(maxBatch, 256), maxBatch, false,
                model.isCompiled() ? ForwardMode.COMPILED : ForwardMode.EAGER);
    }

    public ForwardMode forward() {
        return forward;
    }

    public LlamaModel model() {
        return model;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    public KvCachePool pool() {
        return pool;
    }

    public Path modelDir() {
        return modelDir;
    }

    /** The base model's {@link ModelFingerprint}, computed once per session. */
    public synchronized String fingerprint() throws IOException {
        if (fingerprint == null) {
            fingerprint = ModelFingerprint.of(modelDir);
        }
        return fingerprint;
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** A new sequence for a request, with this model's stop ids, context and detokenizer. */
    public SequenceState newSequence(DecodeRequest r) {
        return new SequenceState(r, new HashSet<>(model.config.eosTokenIds), model.config.maxPositions,
                tokenizer == null ? null : tokenizer::decode);
    }

    public Decoder decoder(DecodingMethod method) throws IOException {
        return decoder(method, DecoderOptions.DEFAULTS);
    }

    /** A new decoder; speculative ones load their drafter (the caller closes the decoder). */
    public Decoder decoder(DecodingMethod method, DecoderOptions o) throws IOException {
        if (!method.isSpeculative()) {
            return new PlainDecoder(model, pool);
        }
        if (method == DecodingMethod.NGRAM) {
            TreePolicy tree = DrafterConfig.parseTree(o.tree() != null ? o.tree() : NGRAM_TREE, NGRAM_DEPTH, 1,
                    NGRAM_DEPTH);
            return new SpeculativeDecoder(model, pool, new NgramDrafter(NGRAM_MAX_N, 1, NGRAM_DEPTH), tree,
                    CtcTransform.Mode.NONE, 0, method);
        }
        Path dir = method.drafterDir(modelDir, o.drafterDir() == null ? null : Path.of(o.drafterDir()));
        DrafterConfig c = DrafterConfig.load(dir);
        c.requireBase(fingerprint(), dir, modelDir);
        int width = o.width() != null ? o.width() : c.width();
        String treeName = o.tree() != null ? o.tree() : c.tree();
        if (method == DecodingMethod.MEDUSA) {
            if (!c.type().equals("medusa")) {
                throw new ModelFormatException(dir + " holds a " + c.type() + " drafter, not Medusa heads");
            }
            MedusaHeads heads = MedusaHeads.load(dir.resolve("model.safetensors"), model);
            TreePolicy tree = DrafterConfig.parseTree(treeName, heads.heads(), width);
            return new SpeculativeDecoder(model, pool, new MedusaDrafter(heads, width), tree, CtcTransform.Mode.NONE,
                    c.blank(), method);
        }
        if (!c.type().equals("ctc")) {
            throw new ModelFormatException(dir + " holds a " + c.type() + " drafter, not a CTC drafter");
        }
        TreePolicy tree = DrafterConfig.parseTree(treeName, c.depth(), width, MAX_CTC_CHAIN);
        DraftModule module = DraftModule.load(dir.resolve("model.safetensors"), model);
        if (forward == ForwardMode.COMPILED) {
            module.compile();
        }
        // The chain drafts as deep as the tree reaches and no deeper: a depth list no tree node uses is wasted work.
        CtcDrafter drafter = new CtcDrafter(module, maxBatch, tree.maxDepth(), width);
        CtcTransform.Mode mode = method == DecodingMethod.CTC ? CtcTransform.Mode.EXACT : CtcTransform.Mode.FAITHFUL;
        return new SpeculativeDecoder(model, pool, drafter, tree, mode, c.blank(), method);
    }

    @Override
    public void close() {
        pool.close();
        if (tokenizer != null) {
            tokenizer.close();
        }
        if (ownsModel) {
            model.close();
        }
    }
}

package dev.specdec.engine;

import ai.djl.Device;
import dev.specdec.engine.generate.Decoder;
import dev.specdec.engine.generate.Generator;
import dev.specdec.engine.generate.PlainDecoder;
import dev.specdec.engine.model.DraftModule;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.MedusaHeads;
import dev.specdec.engine.model.ModelFormatException;
import dev.specdec.engine.spec.CtcDrafter;
import dev.specdec.engine.spec.CtcTransform;
import dev.specdec.engine.spec.DrafterConfig;
import dev.specdec.engine.spec.MedusaDrafter;
import dev.specdec.engine.spec.SpeculativeDecoder;
import dev.specdec.engine.spec.TreePolicy;
import dev.specdec.engine.tokenizer.TextTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A loaded base model with its tokenizer and KV-cache pool, and the factory for its decoders:
 * {@code none} (plain), {@code ctc} (CTC drafter, exact transform), {@code ctc-faithful} (the paper's
 * transform) and {@code medusa}. Drafters live in folders beside the model
 * ({@code drafter-ctc/}, {@code drafter-medusa/}) unless given explicitly. Not thread-safe: one
 * session per engine thread.
 */
public final class EngineSession implements AutoCloseable {
    public static final List<String> DECODERS = List.of("none", "ctc", "ctc-faithful", "medusa");
    /** Longest chain the CTC drafter drafts for a {@code chain:N} tree (beyond this, acceptance is negligible). */
    static final int MAX_CTC_CHAIN = 32;

    private final Path modelDir;
    private final LlamaModel model;
    private final TextTokenizer tokenizer;
    private final KvCachePool pool;
    private final int maxBatch;

    private EngineSession(Path modelDir, LlamaModel model, TextTokenizer tokenizer, KvCachePool pool, int maxBatch) {
        this.modelDir = modelDir;
        this.model = model;
        this.tokenizer = tokenizer;
        this.pool = pool;
        this.maxBatch = maxBatch;
    }

    public static EngineSession open(Path dir, Device device, int maxBatch) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException("model folder " + dir + " does not exist");
        }
        LlamaModel model = LlamaModel.load(dir, device);
        try {
            TextTokenizer tok = TextTokenizer.load(dir);
            return new EngineSession(dir, model, tok, model.newCachePool(maxBatch, 256), maxBatch);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
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

    /** Options of a speculative decoder; nulls take the drafter folder's defaults. */
    public record DecoderOptions(Path drafterDir, String tree, Integer width, Double chainStop) {
        public static final DecoderOptions DEFAULTS = new DecoderOptions(null, null, null, null);

        public DecoderOptions(Path drafterDir, String tree, Integer width) {
            this(drafterDir, tree, width, null);
        }
    }

    public Decoder decoder(String name) throws IOException {
        return decoder(name, DecoderOptions.DEFAULTS);
    }

    /**
     * The decoder {@code auto} stands for: {@code ctc} when the model has a CTC drafter beside it (or
     * one is given), otherwise plain decoding.
     */
    public String resolve(String name, DecoderOptions o) {
        if (!name.equals("auto")) {
            return name;
        }
        Path dir = o.drafterDir() != null ? o.drafterDir() : modelDir.resolve("drafter-ctc");
        return Files.isRegularFile(dir.resolve("drafter.json")) ? "ctc" : "none";
    }

    /** A new decoder by name; speculative ones load their drafter (the caller closes the decoder). */
    public Decoder decoder(String name, DecoderOptions o) throws IOException {
        switch (resolve(name, o)) {
            case "none":
                return new PlainDecoder(model, pool);
            case "ctc":
            case "ctc-faithful": {
                Path dir = o.drafterDir() != null ? o.drafterDir() : modelDir.resolve("drafter-ctc");
                DrafterConfig c = DrafterConfig.load(dir);
                if (!c.type().equals("ctc")) {
                    throw new ModelFormatException(dir + " holds a " + c.type() + " drafter, not a CTC drafter");
                }
                int width = o.width() != null ? o.width() : c.width();
                TreePolicy tree = DrafterConfig.parseTree(o.tree() != null ? o.tree() : c.tree(), c.depth(), width,
                        MAX_CTC_CHAIN);
                double stop = o.chainStop() != null ? o.chainStop() : c.chainStop();
                CtcDrafter drafter = new CtcDrafter(DraftModule.load(dir.resolve("model.safetensors"), model),
                        maxBatch, Math.max(c.depth(), tree.maxDepth()), width, stop, name);
                CtcTransform.Mode mode = name.equals("ctc") ? CtcTransform.Mode.EXACT : CtcTransform.Mode.FAITHFUL;
                return new SpeculativeDecoder(model, pool, drafter, tree, mode, c.blank(), name);
            }
            case "medusa": {
                Path dir = o.drafterDir() != null ? o.drafterDir() : modelDir.resolve("drafter-medusa");
                DrafterConfig c = DrafterConfig.load(dir);
                if (!c.type().equals("medusa")) {
                    throw new ModelFormatException(dir + " holds a " + c.type() + " drafter, not Medusa heads");
                }
                int width = o.width() != null ? o.width() : c.width();
                MedusaHeads heads = MedusaHeads.load(dir.resolve("model.safetensors"), model);
                TreePolicy tree = DrafterConfig.parseTree(o.tree() != null ? o.tree() : c.tree(),
                        heads.heads(), width);
                return new SpeculativeDecoder(model, pool, new MedusaDrafter(heads, width), tree,
                        CtcTransform.Mode.NONE, c.blank(), name);
            }
            default:
                throw new IllegalArgumentException("unknown drafter '" + name + "' (use one of " + DECODERS + ")");
        }
    }

    public Generator generator(Decoder decoder) {
        return new Generator(model, tokenizer, decoder, maxBatch);
    }

    public int maxBatch() {
        return maxBatch;
    }

    @Override
    public void close() {
        pool.close();
        tokenizer.close();
        model.close();
    }
}

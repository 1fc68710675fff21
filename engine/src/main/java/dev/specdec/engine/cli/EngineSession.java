package dev.specdec.engine.cli;

import ai.djl.Device;
import dev.specdec.engine.generate.Decoder;
import dev.specdec.engine.generate.Generator;
import dev.specdec.engine.generate.PlainDecoder;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.ModelFormatException;
import dev.specdec.engine.tokenizer.TextTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A loaded model with its tokenizer and cache pool, ready to build generators. */
public final class EngineSession implements AutoCloseable {
    private final LlamaModel model;
    private final TextTokenizer tokenizer;
    private final KvCachePool pool;
    private final int maxBatch;

    private EngineSession(LlamaModel model, TextTokenizer tokenizer, KvCachePool pool, int maxBatch) {
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
            return new EngineSession(model, tok, model.newCachePool(maxBatch, 256), maxBatch);
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

    public Decoder decoder(String name) {
        if (name.equals("none")) {
            return new PlainDecoder(model, pool);
        }
        throw new CliException("unknown drafter '" + name + "'");
    }

    public Generator generator(String drafter) {
        return new Generator(model, tokenizer, decoder(drafter), maxBatch);
    }

    @Override
    public void close() {
        pool.close();
        tokenizer.close();
        model.close();
    }
}

package dev.specdec.engine.testing;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.request.Completion;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.serve.Generator;
import dev.specdec.engine.io.SafetensorsWriter;
import dev.specdec.engine.model.ModelConfig;
import dev.specdec.engine.tokenizer.BpeTrainer;
import dev.specdec.engine.train.TrainableLlama;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tiny random LLaMA checkpoint with a BPE tokenizer and a random CTC drafter, written to a
 * folder, so scheduler and job tests run the real engine in seconds. Its outputs are meaningless but
 * deterministic: tests compare the job's tokens with the engine's plain greedy decoding.
 */
public final class TinyModel {
    public static final int HIDDEN = 48;
    public static final int INTERMEDIATE = 96;
    public static final int HEADS = 6;
    public static final int KV_HEADS = 3;
    public static final int VOCAB = 300;
    public static final int CONTEXT = 192;

    public static final List<String> CORPUS = List.of(
            "In the beginning God created the heaven and the earth.",
            "And the earth was without form, and void; and darkness was upon the face of the deep.",
            "And the Spirit of God moved upon the face of the waters.",
            "And God said, Let there be light: and there was light.",
            "And God saw the light, that it was good: and God divided the light from the darkness.",
            "And God called the light Day, and the darkness he called Night.",
            "And the evening and the morning were the first day.",
            "The quick brown fox jumps over the lazy dog while the cat sleeps in the warm sun.",
            "Streams of requests arrive, are decoded in batches, and leave as results.");

    private TinyModel() {
    }

    /** Writes the model, its tokenizer and {@code drafter-ctc/} into {@code dir}. */
    public static Path create(Path dir) throws IOException {
        Files.createDirectories(dir);
        ObjectNode json = ModelConfig.llamaConfigJson(HIDDEN, INTERMEDIATE, 2, HEADS, KV_HEADS, VOCAB, CONTEXT, 10000,
                false, 1, 2);
        try (NDManager m = NDManager.newBaseManager()) {
            TrainableLlama.initialize(ModelConfig.parse(json, null), m, 7).save(dir, json);
            writeDrafter(dir.resolve("drafter-ctc"), m);
        }
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            texts.addAll(CORPUS);
        }
        BpeTrainer.write(BpeTrainer.train(texts, VOCAB), dir.resolve("tokenizer.json"));
        return dir;
    }

    /** A random draft module in the EAGLE-1 / CTC-drafter layout, with its drafter.json. */
    private static void writeDrafter(Path dir, NDManager m) throws IOException {
        int h = HIDDEN;
        int kv = KV_HEADS * (HIDDEN / HEADS);
        Map<String, NDArray> t = new LinkedHashMap<>();
        m.getEngine().setRandomSeed(11);
        t.put("fc.weight", rand(m, h, 2 * h));
        t.put("fc.bias", m.zeros(new Shape(h)));
        t.put("layers.0.self_attn.q_proj.weight", rand(m, h, h));
        t.put("layers.0.self_attn.k_proj.weight", rand(m, kv, h));
        t.put("layers.0.self_attn.v_proj.weight", rand(m, kv, h));
        t.put("layers.0.self_attn.o_proj.weight", rand(m, h, h));
        t.put("layers.0.mlp.gate_proj.weight", rand(m, INTERMEDIATE, h));
        t.put("layers.0.mlp.up_proj.weight", rand(m, INTERMEDIATE, h));
        t.put("layers.0.mlp.down_proj.weight", rand(m, h, INTERMEDIATE));
        t.put("layers.0.post_attention_layernorm.weight", m.ones(new Shape(h)));
        Files.createDirectories(dir);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), t, Map.of());
        // Written as JSON (the format), not through the engine's record, whose fields grow over time.
        Files.writeString(dir.resolve("drafter.json"),
                "{\"type\":\"ctc\",\"depth\":4,\"width\":10,\"tree\":\"ranked:16\",\"blank\":0}");
    }

    private static NDArray rand(NDManager m, long rows, long cols) {
        return m.randomNormal(0, 0.1f, new Shape(rows, cols), ai.djl.ndarray.types.DataType.FLOAT32);
    }

    /** The engine's plain greedy output for each prompt (the reference every job run must equal). */
    public static Map<String, int[]> reference(Path dir, Map<String, String> prompts, SamplingParams params)
            throws IOException {
        try (EngineSession s = EngineSession.open(dir, Device.cpu(), 4);
             Decoder plain = s.decoder(DecodingMethod.NONE)) {
            List<DecodeRequest> reqs = new ArrayList<>();
            prompts.forEach((id, text) -> reqs.add(new DecodeRequest(id, s.tokenizer().encode(text), params)));
            Map<String, int[]> out = new HashMap<>();
            for (Completion r : Generator.run(s, plain, reqs)) {
                out.put(r.id(), r.tokenIds());
            }
            return out;
        }
    }
}

package dev.specdec.engine.train;

import ai.djl.Device;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.model.ModelFingerprint;
import dev.specdec.engine.model.ModelFormatException;
import dev.specdec.engine.request.Completion;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.serve.Generator;
import dev.specdec.engine.speculative.DrafterConfig;
import dev.specdec.engine.testing.SyntheticCheckpoint;
import dev.specdec.engine.testing.SyntheticLlama;
import dev.specdec.engine.testing.OwnCheckpoints;
import dev.specdec.engine.testing.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A user's own checkpoint, end to end, in every form the engine loads: train a CTC drafter and
 * Medusa heads for it (a few steps), load them in a fresh engine, and decode greedy and sampled with
 * outputs equal to plain decoding. Forms: a sharded F16 LLaMA-3.1 (llama3 rope scaling, GQA, tied
 * head), a single-file BF16 Qwen2 with q/k/v biases, and the reference fixtures (a sharded BF16
 * LLaMA-3 with an untied head, a single-file F32 LLaMA-2).
 */
class OwnCheckpointTest {

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {OwnCheckpoints.LLAMA31_F16_SHARDED, OwnCheckpoints.QWEN2_BF16_BIAS, "llama3-tiny-gqa-bf16", "llama2-tiny"})
    void trainServeAndStayExact(String form) throws Exception {
        Path model = OwnCheckpoints.write(form, tmp.resolve(form));
        Path corpus = OwnCheckpoints.corpus(tmp);
        for (DraftObjective.Kind kind : DraftObjective.Kind.values()) {
            DrafterTrainer.Result r = new DrafterTrainer(OwnCheckpoints.options(model, corpus, kind)).run();
            assertTrue(Double.isNaN(r.heldoutTop1()), "no held-out set was given");
        }
        String fingerprint = ModelFingerprint.of(model);
        assertEquals(fingerprint, DrafterConfig.load(model.resolve("drafter-ctc")).baseFingerprint());
        try (EngineSession s = EngineSession.open(model, Device.cpu(), 2)) {
            List<DecodeRequest> reqs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int[] prompt = s.tokenizer().encode(TinyModel.CORPUS.get(i));
                reqs.add(new DecodeRequest("g" + i, prompt, SamplingParams.greedy(24).withIgnoreEos(true)));
                reqs.add(new DecodeRequest("s" + i, prompt,
                        new SamplingParams(24, 0.8, 0, 1.0, 5 + i, Set.of(), List.of(), true)));
            }
            List<Completion> plain;
            try (Decoder none = s.decoder(DecodingMethod.NONE)) {
                plain = Generator.run(s, none, reqs);
            }
            for (DecodingMethod m : List.of(DecodingMethod.CTC, DecodingMethod.MEDUSA)) {
                try (Decoder d = s.decoder(m)) {
                    List<Completion> spec = Generator.run(s, d, reqs);
                    for (int i = 0; i < reqs.size(); i++) {
                        assertArrayEquals(plain.get(i).tokenIds(), spec.get(i).tokenIds(),
                                form + " " + m.wireName() + " " + reqs.get(i).id());
                    }
                }
            }
        }
    }

    @Test
    void theFingerprintIgnoresFileLayoutAndDtypeButNotWeights() throws Exception {
        SyntheticLlama.Variant v = new SyntheticLlama.Variant("llama", 32, 64, 2, 4, 2, 8, 300, false, false, false,
                false, 0, "F32", 1);
        ObjectNode c = SyntheticLlama.config(v);
        SyntheticCheckpoint ck = SyntheticLlama.weights(v);
        ck.write(tmp.resolve("one"), "F32", 1, c);
        ck.write(tmp.resolve("shards"), "F32", 3, c);
        ck.write(tmp.resolve("half"), "F16", 2, c);    // the values are exact in F16
        String one = ModelFingerprint.of(tmp.resolve("one"));
        assertTrue(one.startsWith("sha256:"), one);
        assertEquals(one, ModelFingerprint.of(tmp.resolve("shards")), "sharding does not change the model");
        assertEquals(one, ModelFingerprint.of(tmp.resolve("half")), "nor an exact F16 copy");
        ck.tensors.get("model.norm.weight")[0] += 0.25f;
        ck.write(tmp.resolve("tuned"), "F32", 1, c);
        assertNotEquals(one, ModelFingerprint.of(tmp.resolve("tuned")), "other weights, another model");
    }

    @Test
    void aDrafterForAnotherBaseModelIsRefused() throws Exception {
        Path a = OwnCheckpoints.write("qwen2-bf16-bias", tmp.resolve("a"));
        Path b = OwnCheckpoints.write("llama31-f16-sharded", tmp.resolve("b"));
        new DrafterTrainer(OwnCheckpoints.options(a, OwnCheckpoints.corpus(tmp), DraftObjective.Kind.CTC)).run();
        OwnCheckpoints.copy(a.resolve("drafter-ctc"), b.resolve("drafter-ctc"));
        try (EngineSession s = EngineSession.open(b, Device.cpu(), 1)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> s.decoder(DecodingMethod.CTC));
            assertTrue(e.getMessage().contains("another base model") && e.getMessage().contains("train-drafter"),
                    e.getMessage());
        }
    }
}

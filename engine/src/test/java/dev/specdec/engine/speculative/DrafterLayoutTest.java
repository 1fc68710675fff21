package dev.specdec.engine.speculative;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.specdec.engine.cli.Defaults;
import dev.specdec.engine.io.CheckpointReader;
import dev.specdec.engine.model.ModelConfig;
import dev.specdec.engine.model.ModelFingerprint;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bundled drafters' {@code drafter.json} carries the layout block that {@code train-drafter}
 * writes today, naming the tensors the base checkpoint really has, and the drafters still load for
 * their base model (same fingerprint).
 */
class DrafterLayoutTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"ctc", "medusa"})
    void bundledDrafterDocumentsItsLayout(String type) throws Exception {
        Path base = Defaults.bundledModel();
        Path dir = base.resolve("drafter-" + type);
        JsonNode written = JSON.readTree(dir.resolve("drafter.json").toFile());
        boolean ownEmbedding;
        try (CheckpointReader drafter = CheckpointReader.openFile(dir.resolve("model.safetensors"))) {
            ownEmbedding = drafter.has("embed_tokens.weight");
        }
        assertEquals(DrafterLayout.of(type, baseTensors(base), ownEmbedding), written.get("layout"));
        assertEquals(type, written.get("type").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ctc", "medusa"})
    void bundledDrafterStillLoadsForItsBase(String type) throws Exception {
        Path base = Defaults.bundledModel();
        DrafterConfig c = DrafterConfig.load(base.resolve("drafter-" + type));
        assertEquals(ModelFingerprint.of(base), c.baseFingerprint());
        c.requireBase(ModelFingerprint.of(base), base.resolve("drafter-" + type), base);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ctc", "medusa"})
    void theHiddenStateIsDescribedAsPostNormAndCtcPutsTheEmbeddingFirst(String type) {
        JsonNode layout = JSON.valueToTree(DrafterLayout.of(type, new DrafterLayout.BaseTensors("e", "h"), false));
        assertEquals(type.equals("ctc") ? "[\"token_embedding\",\"hidden_state\"]" : "[\"hidden_state\"]",
                layout.get("inputs").get("order").toString());
        assertTrue(layout.get("inputs").get("hidden_state").asText().contains("after its final norm"));
        assertEquals("shared with base model (h)", layout.get("lm_head").asText());
    }

    private static DrafterLayout.BaseTensors baseTensors(Path base) throws Exception {
        try (CheckpointReader r = CheckpointReader.open(base)) {
            return DrafterLayout.BaseTensors.of(r, ModelConfig.load(base));
        }
    }
}

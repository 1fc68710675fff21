package dev.specdec.job.decode;

import ai.djl.Device;
import dev.specdec.engine.DecoderOptions;
import dev.specdec.engine.request.DecodingMethod;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.junit.jupiter.api.Test;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decode settings' checks, and the device a slot picks from Flink's GPU resources. */
class DecodeSettingsTest {

    static DecodeSettings.Builder valid() {
        return DecodeSettings.builder().model("/models/m");
    }

    @Test
    void builderNamesTheBadSetting() {
        assertEquals(32, valid().maxBatch(8).queueFactor(4).build().admissionLimit());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DecodeSettings.builder().build())
                .getMessage().contains("model"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> valid().defaultDrafter("eagle").build())
                .getMessage().contains("unknown drafter"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> valid().maxBatch(0).build())
                .getMessage().contains("batch size"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> valid().queueFactor(0).build())
                .getMessage().contains("queue factor"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> valid().verifyDevice("tpu").build())
                .getMessage().contains("unknown device"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> valid().verifyDevice("gpu:0").draftDevice("gpu:1").build())
                .getMessage().contains("base model's device"));
        assertEquals("gpu:0", valid().verifyDevice("gpu:0").draftDevice("gpu:0").build().draftDevice());
        assertThrows(IllegalArgumentException.class, () -> valid().defaultTimeout(java.time.Duration.ofSeconds(-1)).build());
        assertThrows(IllegalArgumentException.class,
                () -> valid().decoder(new DecoderOptions(null, null, 0)).build());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> valid().warmUpTokens(-1).build())
                .getMessage().contains("warm-up tokens"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> valid().intraOpThreads(-2).build())
                .getMessage().contains("intra-op threads"));
    }

    @Test
    void intraOpThreadsLeaveACoreToFlinkUnlessSet() {
        DecodeSettings auto = valid().build();
        assertEquals(1, auto.intraOpThreads(2, 1));
        assertEquals(1, auto.intraOpThreads(1, 1));
        assertEquals(7, auto.intraOpThreads(8, 1));
        assertEquals(3, auto.intraOpThreads(8, 2));
        assertEquals(1, auto.intraOpThreads(4, 8), "every slot's engine gets at least one thread");
        assertEquals(4, valid().intraOpThreads(4).build().intraOpThreads(2, 1));
    }

    @Test
    void toBuilderKeepsEverySetting() {
        DecodeSettings s = valid().defaultDrafter("medusa").decoder(new DecoderOptions("/d", "chain:4", 3)).maxBatch(5)
                .queueFactor(2).verifyDevice("cpu").cacheCheckpoint(DecodeSettings.CacheCheckpoint.FULL_TENSOR)
                .defaultTimeout(java.time.Duration.ofSeconds(9)).warmUpTokens(3).intraOpThreads(2).build();
        DecodeSettings copy = s.toBuilder().build();
        assertEquals(s.toString(), copy.toString());
        assertEquals(s.defaultTimeoutMillis(), copy.defaultTimeoutMillis());
        assertEquals(s.serve(), copy.serve());
        assertEquals(7, s.toBuilder().maxBatch(7).build().maxBatch());
    }

    @Test
    void drafterFolderOverrideAppliesToTheDefaultDrafterKind() {
        DecodeSettings s = valid().defaultDrafter("ctc").decoder(new DecoderOptions("/d", null, null)).build();
        assertEquals("/d", s.serve().decoderOptions(DecodingMethod.CTC_FAITHFUL).drafterDir());
        assertEquals(null, s.serve().decoderOptions(DecodingMethod.MEDUSA).drafterDir());
    }

    record Gpu(String index) implements ExternalResourceInfo {
        @Override
        public Optional<String> getProperty(String key) {
            return key.equals("index") ? Optional.of(index) : Optional.empty();
        }

        @Override
        public Collection<String> getKeys() {
            return Set.of("index");
        }
    }

    @Test
    void slotsSpreadOverTheirTaskManagersGpus() {
        List<ExternalResourceInfo> gpus = List.of(new Gpu("3"), new Gpu("1"));
        assertEquals(Device.gpu(1), DeviceSelector.select("auto", gpus, 0));
        assertEquals(Device.gpu(3), DeviceSelector.select("auto", gpus, 1));
        assertEquals(Device.gpu(1), DeviceSelector.select("auto", gpus, 2));
        assertEquals(Device.cpu(), DeviceSelector.select("auto", List.of(), 5));
        assertEquals(Device.cpu(), DeviceSelector.select("cpu", gpus, 0));
        assertEquals(Device.gpu(2), DeviceSelector.select("gpu:2", List.of(), 0));
    }
}

package dev.specdec.job.state;

import dev.specdec.engine.request.SamplingParams;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every state type survives its serializer, copies of mutable state are independent (the heap
 * backend's copy-on-write relies on it), and serializer snapshots restore and resolve versions:
 * same version as is, an older one after migration, a newer or foreign one incompatible.
 */
class StateSerializersTest {

    static <T> T roundTrip(TypeSerializer<T> s, T value) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        s.serialize(value, out);
        T back = s.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        DataOutputSerializer copied = new DataOutputSerializer(64);
        s.copy(new DataInputDeserializer(out.getCopyOfBuffer()), copied);
        assertArrayEquals(out.getCopyOfBuffer(), copied.getCopyOfBuffer());
        return back;
    }

    static TokenizedRequest request() {
        return new TokenizedRequest("id-é", new int[] {1, 5, 9},
                new SamplingParams(64, 0.7, 40, 0.9, 99, Set.of(2), List.of("\n\n"), true), "ctc",
                Map.of("category", "writing"), new TokenizedRequest.Arrival(123, 456, 789), false);
    }

    @Test
    void requestsRoundTrip() throws IOException {
        TokenizedRequest r = request();
        TokenizedRequest back = roundTrip(new TokenizedRequestSerializer(), r);
        assertEquals(r.id(), back.id());
        assertArrayEquals(r.promptIds(), back.promptIds());
        assertEquals(r.params(), back.params());
        assertEquals(r.arrival(), back.arrival());
        assertEquals(r.metadata(), back.metadata());
        assertEquals(r.deadlineMicros(), back.deadlineMicros());
        AdmittedRequest a = roundTrip(new AdmittedRequestSerializer(), new AdmittedRequest(r, 17, 42));
        assertEquals(17, a.admissionSeq());
        assertEquals(42, a.admittedMicros());
        assertEquals("ctc", a.request().method());
        assertTrue(roundTrip(new TokenizedRequestSerializer(), TokenizedRequest.cancellation("c", 5)).cancel());
    }

    @Test
    void progressRoundTripsAndCopiesAreIndependent() throws IOException {
        VerifyProgress v = new VerifyProgress();
        v.append(new int[] {4, 8, 15});
        v.append(new int[] {16, 23, 42});
        v.steps = 3;
        v.stepTokens = 5;
        v.verifyNanos = 1000;
        v.recoveries = 1;
        VerifyProgress back = roundTrip(new VerifyProgressSerializer(), v);
        assertArrayEquals(v.tokens(), back.tokens());
        assertEquals(3, back.steps);
        assertEquals(1, back.recoveries);
        VerifyProgress copy = new VerifyProgressSerializer().copy(v);
        assertNotSame(v, copy);
        copy.append(new int[] {99});
        assertEquals(6, v.count());
        assertEquals(7, copy.count());

        DraftProgress d = new DraftProgress("medusa");
        d.acceptedTokens = 9;
        d.rebuilds = 2;
        DraftProgress db = roundTrip(new DraftProgressSerializer(), d);
        assertEquals("medusa", db.drafter);
        assertEquals(9, db.acceptedTokens);
        assertEquals(2, db.rebuilds);

        assertNull(roundTrip(new KvCacheHandleSerializer(), KvCacheHandle.compact(12)).tensors());
        KvCacheHandle full = roundTrip(new KvCacheHandleSerializer(), new KvCacheHandle(3, new byte[] {1, 2, 3}));
        assertArrayEquals(new byte[] {1, 2, 3}, full.tensors());
        assertEquals(3, full.rows());
    }

    @Test
    void snapshotsRestoreAndResolveVersions() throws IOException {
        VerifyProgressSerializer s = new VerifyProgressSerializer();
        TypeSerializerSnapshot<VerifyProgress> snap = s.snapshotConfiguration();
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snap);
        TypeSerializerSnapshot<VerifyProgress> read = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader());
        assertEquals(s, read.restoreSerializer());
        assertTrue(snap.resolveSchemaCompatibility(read).isCompatibleAsIs());

        VersionedSnapshot<VerifyProgress> older = new VersionedSnapshot<>(VerifyProgressSerializer.class, 0);
        VersionedSnapshot<VerifyProgress> newer = new VersionedSnapshot<>(VerifyProgressSerializer.class, 2);
        TypeSerializerSchemaCompatibility<VerifyProgress> olderC = snap.resolveSchemaCompatibility(older);
        assertTrue(olderC.isCompatibleAfterMigration());
        assertTrue(snap.resolveSchemaCompatibility(newer).isIncompatible());
        @SuppressWarnings({"unchecked", "rawtypes"})
        TypeSerializerSnapshot<VerifyProgress> foreign = (TypeSerializerSnapshot) new DraftProgressSerializer().snapshotConfiguration();
        assertTrue(snap.resolveSchemaCompatibility(foreign).isIncompatible());
        assertThrows(IllegalArgumentException.class, newer::restoreSerializer);
    }
}

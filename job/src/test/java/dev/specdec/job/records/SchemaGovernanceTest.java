package dev.specdec.job.records;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecordBase;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The schema evolution rule (schemas/history/README.md), for every schema and every published
 * version: the current schema reads each version (requests: clients may be older than the job);
 * results, chunks and dead letters also the other way round (consumers may be older than the job).
 * The schema files must be their newest published version, every field has a doc and every enum a
 * default. Each check is also shown to fail on a schema that breaks it.
 */
class SchemaGovernanceTest {
    /** A schema, whether its consumers may be older than its writers too, and its codec. */
    record Governed(Schema current, boolean forward, Supplier<RecordCodec<? extends SpecificRecordBase>> codec) {
        String name() {
            return current.getName();
        }

        List<Schema> history() {
            return RecordCodec.history(name());
        }
    }

    static final List<Governed> SCHEMAS = List.of(
            new Governed(dev.specdec.records.GenerationRequest.getClassSchema(), false, RecordCodec::requests),
            new Governed(dev.specdec.records.GenerationResult.getClassSchema(), true, RecordCodec::results),
            new Governed(dev.specdec.records.TokenChunk.getClassSchema(), true, RecordCodec::chunks),
            new Governed(dev.specdec.records.DeadLetter.getClassSchema(), true, RecordCodec::deadLetters));

    @Test
    void everySchemaFileIsItsNewestPublishedVersion() {
        for (Governed g : SCHEMAS) {
            assertFalse(g.history().isEmpty(), g.name() + " has no history");
            Schema file = SchemaRules.schemaFile(g.name());
            assertNull(SchemaRules.unpublishedChange(g.name(), file, g.history()));
        }
    }

    @Test
    void anUnpublishedChangeIsCaughtEvenInADoc() {
        Schema current = dev.specdec.records.TokenChunk.getClassSchema();
        Schema edited = new Schema.Parser().parse(current.toString().replace("The tokens this decoding step committed.",
                "The tokens of this step."));
        List<Schema> history = RecordCodec.history("TokenChunk");
        String message = SchemaRules.unpublishedChange("TokenChunk", edited, history);
        assertNotNull(message);
        assertTrue(message.contains("schemas/history/TokenChunk-v" + (history.size() + 1) + ".avsc"), message);
    }

    @Test
    void theCurrentSchemasReadEveryPublishedVersionAndOutputIsReadableByEveryOne() {
        for (Governed g : SCHEMAS) {
            for (int v = 1; v <= g.history().size(); v++) {
                Schema old = g.history().get(v - 1);
                assertNull(SchemaRules.incompatibility(g.current(), old), g.name() + " cannot read its v" + v);
                if (g.forward()) {
                    assertNull(SchemaRules.incompatibility(old, g.current()), "v" + v + " of " + g.name() + " cannot read it");
                }
            }
        }
    }

    @Test
    void aNewFieldWithoutADefaultIsCaught() {
        Schema old = RecordCodec.history("DeadLetter").get(0);
        Schema next = new Schema.Parser().parse(old.toString().replace("\"fields\":[",
                "\"fields\":[{\"name\":\"added\",\"type\":\"int\"},"));
        assertNotNull(SchemaRules.incompatibility(next, old));
    }

    @Test
    void recordsWrittenWithOneVersionAreReadWithTheOther() throws IOException {
        for (Governed g : SCHEMAS) {
            for (Schema old : g.history()) {
                assertRoundTrip(old, g.current());
                if (g.forward()) {
                    assertRoundTrip(g.current(), old);
                }
            }
        }
    }

    @Test
    void singleObjectRecordsOfEveryVersionDecodeWithTheCurrentCodec() throws IOException {
        for (Governed g : SCHEMAS) {
            for (Schema old : g.history()) {
                GenericRecord written = (GenericRecord) SampleRecords.of(old, 3);
                ByteBuffer buf = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), old).encode(written);
                byte[] bytes = new byte[buf.remaining()];
                buf.get(bytes);
                SpecificRecordBase read = g.codec().get().decode(bytes);
                int id = read.getSchema().getField("request_id").pos();
                assertEquals(String.valueOf(written.get("request_id")), String.valueOf(read.get(id)), g.name());
            }
        }
    }

    @Test
    void everyFieldHasADocAndEveryEnumADefault() {
        for (Governed g : SCHEMAS) {
            assertEquals(List.of(), SchemaRules.undocumentedOrUndefaulted(g.current()), g.name());
        }
        Schema bare = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"Bare\",\"fields\":[{\"name\":\"e\","
                + "\"doc\":\"d\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}},{\"name\":\"x\",\"type\":\"int\"}]}");
        assertEquals(List.of("enum E has no default", "Bare.x has no doc"), SchemaRules.undocumentedOrUndefaulted(bare));
    }

    /**
     * Writes a sample record with {@code writer} and reads it with {@code reader}: fields both have
     * keep their value, fields only the reader has take their default.
     */
    private static void assertRoundTrip(Schema writer, Schema reader) throws IOException {
        GenericRecord written = (GenericRecord) SampleRecords.of(writer, 5);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder out = EncoderFactory.get().binaryEncoder(bytes, null);
        new GenericDatumWriter<GenericRecord>(writer).write(written, out);
        out.flush();
        GenericRecord read = new GenericDatumReader<GenericRecord>(writer, reader)
                .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
        for (Schema.Field f : reader.getFields()) {
            Object expected = writer.getField(f.name()) != null ? written.get(f.name()) : GenericData.get().getDefaultValue(f);
            assertEquals(GenericData.get().toString(expected), GenericData.get().toString(read.get(f.name())),
                    reader.getName() + "." + f.name() + " written with " + writer.getDoc());
        }
    }

    /** Records with a value in every field, all branches and collections non-empty. */
    static final class SampleRecords {
        private SampleRecords() {
        }

        static Object of(Schema s, int seed) {
            return switch (s.getType()) {
                case RECORD -> {
                    GenericRecord r = new GenericData.Record(s);
                    for (Schema.Field f : s.getFields()) {
                        r.put(f.pos(), of(f.schema(), seed + f.pos()));
                    }
                    yield r;
                }
                case UNION -> of(s.getTypes().get(s.getTypes().size() - 1), seed);
                case ENUM -> new GenericData.EnumSymbol(s, s.getEnumSymbols().get(seed % s.getEnumSymbols().size()));
                case ARRAY -> new ArrayList<>(List.of(of(s.getElementType(), seed)));
                case MAP -> Map.of("k" + seed, of(s.getValueType(), seed));
                case STRING -> "s" + seed;
                case BYTES -> ByteBuffer.wrap(new byte[] {(byte) seed});
                case INT -> seed;
                case LONG -> 1000L * seed;
                case FLOAT -> seed + 0.25f;
                case DOUBLE -> seed + 0.5;
                case BOOLEAN -> seed % 2 == 1;
                case NULL -> null;
                default -> throw new IllegalArgumentException("no sample for " + s.getType());
            };
        }
    }
}

package dev.specdec.job.records;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecordBase;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the plain JSON of {@link RecordJson} back into a generated record class. A field the JSON
 * lacks takes its schema default and a field the schema lacks is ignored, so JSON written with an
 * older or newer version of the schema reads as Avro's schema resolution would; an enum word the
 * schema does not know becomes the enum's default.
 *
 * <p>The JSON is first turned into a generic record (timestamps as plain longs), then written and
 * read back as binary: the generated class's own reader does the conversions, as for Avro input.
 */
public final class RecordJsonReader<T extends SpecificRecordBase> {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Schema schema;
    private final GenericDatumWriter<GenericRecord> writer;
    private final SpecificDatumReader<T> reader;

    public RecordJsonReader(Schema schema) {
        this.schema = schema;
        this.writer = new GenericDatumWriter<>(schema, new GenericData());
        SpecificData model = new SpecificData();
        model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
        this.reader = new SpecificDatumReader<>(schema, schema, model);
    }

    /** Parses one JSON object; throws IOException naming what does not fit the schema. */
    public T read(byte[] json) throws IOException {
        JsonNode node = JSON.readTree(json);
        if (node == null || !node.isObject()) {
            throw new IOException("not a JSON object");
        }
        try {
            GenericRecord generic = (GenericRecord) value(schema, node, schema.getName());
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            BinaryEncoder out = EncoderFactory.get().directBinaryEncoder(bytes, null);
            writer.write(generic, out);
            return reader.read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
        } catch (AvroRuntimeException | ClassCastException | IllegalArgumentException e) {
            throw new IOException("JSON does not fit " + schema.getName() + ": " + e.getMessage(), e);
        }
    }

    private static Object value(Schema s, JsonNode v, String where) throws IOException {
        switch (s.getType()) {
            case RECORD:
                return record(s, v, where);
            case UNION:
                return union(s, v, where);
            case ENUM:
                return enumSymbol(s, v, where);
            case ARRAY: {
                List<Object> out = new ArrayList<>();
                for (JsonNode item : expect(v, v.isArray(), "an array", where)) {
                    out.add(value(s.getElementType(), item, where + "[]"));
                }
                return out;
            }
            case MAP: {
                Map<String, Object> out = new HashMap<>();
                Iterator<Map.Entry<String, JsonNode>> it = expect(v, v.isObject(), "an object", where).fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    out.put(e.getKey(), value(s.getValueType(), e.getValue(), where + "." + e.getKey()));
                }
                return out;
            }
            case STRING:
                return expect(v, v.isTextual(), "text", where).asText();
            case BYTES:
                return ByteBuffer.wrap(bytes(expect(v, v.isTextual(), "text", where).asText()));
            case INT:
                return expect(v, v.canConvertToInt(), "an int", where).asInt();
            case LONG:
                return expect(v, v.canConvertToLong(), "a long", where).asLong();
            case FLOAT:
                return (float) expect(v, v.isNumber(), "a number", where).asDouble();
            case DOUBLE:
                return expect(v, v.isNumber(), "a number", where).asDouble();
            case BOOLEAN:
                return expect(v, v.isBoolean(), "true or false", where).asBoolean();
            case NULL:
                expect(v, v.isNull(), "null", where);
                return null;
            default:
                throw new IOException(where + ": unsupported Avro type " + s.getType());
        }
    }

    private static GenericRecord record(Schema s, JsonNode v, String where) throws IOException {
        expect(v, v.isObject(), "an object", where);
        GenericRecord out = new GenericData.Record(s);
        for (Schema.Field f : s.getFields()) {
            JsonNode field = v.get(f.name());
            if (field != null) {
                out.put(f.pos(), value(f.schema(), field, where + "." + f.name()));
            } else if (f.hasDefaultValue()) {
                out.put(f.pos(), GenericData.get().getDefaultValue(f));
            } else {
                throw new IOException(where + "." + f.name() + " is missing and has no default");
            }
        }
        return out;
    }

    /** RecordJson writes a union as its value: null, or the one non-null branch it holds. */
    private static Object union(Schema s, JsonNode v, String where) throws IOException {
        if (v.isNull() && s.getIndexNamed(Schema.Type.NULL.getName()) != null) {
            return null;
        }
        for (Schema branch : s.getTypes()) {
            if (branch.getType() != Schema.Type.NULL) {
                return value(branch, v, where);
            }
        }
        throw new IOException(where + ": no branch of " + s + " fits");
    }

    private static Object enumSymbol(Schema s, JsonNode v, String where) throws IOException {
        String symbol = expect(v, v.isTextual(), "a word", where).asText().toUpperCase(Locale.ROOT);
        if (!s.hasEnumSymbol(symbol)) {
            if (s.getEnumDefault() == null) {
                throw new IOException(where + ": unknown symbol " + v.asText());
            }
            symbol = s.getEnumDefault();
        }
        return new GenericData.EnumSymbol(s, symbol);
    }

    private static byte[] bytes(String text) {
        return text.startsWith("base64:") ? Base64.getDecoder().decode(text.substring("base64:".length()))
                : text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static JsonNode expect(JsonNode v, boolean fits, String what, String where) throws IOException {
        if (!fits) {
            throw new IOException(where + ": expected " + what + ", got " + v.getNodeType().name().toLowerCase(Locale.ROOT));
        }
        return v;
    }
}

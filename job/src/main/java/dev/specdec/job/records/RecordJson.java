package dev.specdec.job.records;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.IndexedRecord;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Plain JSON for Avro records, keyed by the schema's field names: what the file sink writes and
 * {@code specdec tail} prints. Unlike Avro's own JSON encoding, unions are written as their value
 * (or null), enums as lower-case words, and bytes as text when they are UTF-8 (else
 * {@code "base64:..."}), and timestamps as epoch milliseconds, so people and {@code jq} can read it.
 */
public final class RecordJson {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private RecordJson() {
    }

    public static String toJsonLine(IndexedRecord record) {
        try {
            return JSON.writeValueAsString(toJson(record));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON for " + record.getSchema().getFullName(), e);
        }
    }

    public static ObjectNode toJson(IndexedRecord record) {
        return (ObjectNode) value(record.getSchema(), record);
    }

    private static JsonNode value(Schema schema, Object v) {
        if (v == null) {
            return NODES.nullNode();
        }
        switch (schema.getType()) {
            case RECORD: {
                IndexedRecord r = (IndexedRecord) v;
                ObjectNode o = NODES.objectNode();
                for (Schema.Field f : schema.getFields()) {
                    o.set(f.name(), value(f.schema(), r.get(f.pos())));
                }
                return o;
            }
            case UNION:
                return value(schema.getTypes().get(GenericData.get().resolveUnion(schema, v)), v);
            case ENUM:
                return NODES.textNode(v.toString().toLowerCase(Locale.ROOT));
            case ARRAY: {
                ArrayNode a = NODES.arrayNode();
                for (Object item : (Collection<?>) v) {
                    a.add(value(schema.getElementType(), item));
                }
                return a;
            }
            case MAP: {
                ObjectNode o = NODES.objectNode();
                // Sorted keys: the same record always prints the same line.
                for (Map.Entry<?, ?> e : new TreeMap<>(stringKeys((Map<?, ?>) v)).entrySet()) {
                    o.set(e.getKey().toString(), value(schema.getValueType(), e.getValue()));
                }
                return o;
            }
            case STRING:
            case FIXED:
                return NODES.textNode(v.toString());
            case BYTES:
                return NODES.textNode(bytesText((ByteBuffer) v));
            case INT:
                return NODES.numberNode((Integer) v);
            case LONG:
                // timestamp-millis fields hold an Instant; JSON keeps them as epoch milliseconds.
                return NODES.numberNode(v instanceof Instant t ? t.toEpochMilli() : (long) (Long) v);
            case FLOAT:
                return NODES.numberNode((Float) v);
            case DOUBLE:
                return NODES.numberNode((Double) v);
            case BOOLEAN:
                return NODES.booleanNode((Boolean) v);
            case NULL:
                return NODES.nullNode();
            default:
                throw new IllegalArgumentException("unsupported Avro type " + schema.getType());
        }
    }

    private static Map<String, Object> stringKeys(Map<?, ?> m) {
        Map<String, Object> out = new TreeMap<>();
        m.forEach((k, val) -> out.put(k.toString(), val));
        return out;
    }

    private static String bytesText(ByteBuffer buf) {
        ByteBuffer b = buf.duplicate();
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(b);
            return chars.toString();
        } catch (CharacterCodingException e) {
            ByteBuffer again = buf.duplicate();
            byte[] raw = new byte[again.remaining()];
            again.get(raw);
            return "base64:" + Base64.getEncoder().encodeToString(raw);
        }
    }
}

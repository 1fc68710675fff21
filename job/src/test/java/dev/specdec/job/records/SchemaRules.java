package dev.specdec.job.records;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The checks of the schema evolution rule (schemas/history/README.md), each returning what is wrong
 * (empty or null when nothing is), so that a test can show they catch a broken schema as well as
 * pass the real ones.
 */
final class SchemaRules {
    private SchemaRules() {
    }

    /** A schema file of {@code schemas/} as the build copied it to the class path. */
    static Schema schemaFile(String name) {
        String path = "/specdec/schemas/" + name + ".avsc";
        try (InputStream in = SchemaRules.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(path + " is missing from the build");
            }
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Null when {@code file} is exactly (docs and properties included) the newest version in
     * {@code history}; else what the developer must do.
     */
    static String unpublishedChange(String name, Schema file, List<Schema> history) {
        if (history.isEmpty()) {
            return "schemas/" + name + ".avsc has no history: add it as schemas/history/" + RecordCodec.historyFile(name, 1);
        }
        Schema newest = history.get(history.size() - 1);
        if (newest.toString().equals(file.toString())) {
            return null;
        }
        return "schemas/" + name + ".avsc differs from its newest published version schemas/history/"
                + RecordCodec.historyFile(name, history.size()) + ": once the change keeps the evolution rule, copy it to"
                + " schemas/history/" + RecordCodec.historyFile(name, history.size() + 1);
    }

    /** Null when {@code reader} can read everything {@code writer} wrote; else Avro's reasons. */
    static String incompatibility(Schema reader, Schema writer) {
        SchemaCompatibility.SchemaPairCompatibility c = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        if (c.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            return null;
        }
        return c.getResult().getIncompatibilities().toString();
    }

    /** Every field without a doc and every enum without a default, as "Record.field" or "enum Name". */
    static List<String> undocumentedOrUndefaulted(Schema schema) {
        List<String> out = new ArrayList<>();
        walk(schema, out, new HashSet<>());
        return out;
    }

    private static void walk(Schema s, List<String> out, Set<String> seen) {
        switch (s.getType()) {
            case RECORD -> {
                if (seen.add(s.getFullName())) {
                    for (Schema.Field f : s.getFields()) {
                        if (f.doc() == null || f.doc().isBlank()) {
                            out.add(s.getName() + "." + f.name() + " has no doc");
                        }
                        walk(f.schema(), out, seen);
                    }
                }
            }
            case ENUM -> {
                if (s.getEnumDefault() == null) {
                    out.add("enum " + s.getName() + " has no default");
                }
            }
            case ARRAY -> walk(s.getElementType(), out, seen);
            case MAP -> walk(s.getValueType(), out, seen);
            case UNION -> s.getTypes().forEach(t -> walk(t, out, seen));
            default -> {
            }
        }
    }
}

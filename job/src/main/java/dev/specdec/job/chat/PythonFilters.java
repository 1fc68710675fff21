package dev.specdec.job.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Filters whose Jinjava versions differ from the Python Jinja2 ones that chat templates are written
 * for (and rendered with, in transformers): {@code trim} strips Python's whitespace (Java's trim
 * keeps a no-break or ideographic space), and {@code tojson} writes what transformers' {@code json.dumps}
 * writes (", " and ": " between items, no ASCII escaping, {@code indent} and {@code sort_keys}
 * honoured), not Jinjava's compact form.
 */
final class PythonFilters {
    private PythonFilters() {
    }

    /** Python's {@code str.strip()}. */
    static String strip(String s) {
        return PythonStrings.strip(s, null, true, true);
    }

    static final class Trim implements Filter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return var == null ? "" : strip(var.toString());
        }
    }

    static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, new Object[0], Map.of());
        }

        /** {@code tojson(indent=4)} and {@code tojson(sort_keys=true)} come as keyword arguments. */
        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.get("indent");
            if (indent == null && args.length > 0) {
                indent = args[0];
            }
            int spaces = indent instanceof Number n ? n.intValue() : -1;
            boolean sortKeys = Boolean.TRUE.equals(kwargs.get("sort_keys"));
            StringBuilder sb = new StringBuilder();
            new JsonWriter(spaces, sortKeys, sb).write(var, 0);
            return sb.toString();
        }
    }

    /** {@code json.dumps(value, ensure_ascii=False, indent=..., sort_keys=...)} for a template's values. */
    record JsonWriter(int indent, boolean sortKeys, StringBuilder sb) {
        void write(Object v, int depth) {
            if (v == null) {
                sb.append("null");
            } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) {
                sb.append(v);
            } else if (v instanceof Number n) {
                double d = n.doubleValue();
                sb.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity")
                        : PythonRepr.floatRepr(d));
            } else if (v instanceof Map<?, ?> m) {
                writeMap(m, depth);
            } else if (v instanceof Collection<?> c) {
                writeList(c, depth);
            } else {
                quote(v.toString());
            }
        }

        private void writeMap(Map<?, ?> m, int depth) {
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            if (sortKeys) {
                entries.sort(Comparator.comparing(e -> String.valueOf(e.getKey())));
            }
            sb.append('{');
            for (int i = 0; i < entries.size(); i++) {
                separate(i, depth + 1);
                quote(String.valueOf(entries.get(i).getKey()));
                sb.append(": ");
                write(entries.get(i).getValue(), depth + 1);
            }
            close(entries.isEmpty(), depth, '}');
        }

        private void writeList(Collection<?> c, int depth) {
            sb.append('[');
            int i = 0;
            for (Object x : c) {
                separate(i++, depth + 1);
                write(x, depth + 1);
            }
            close(c.isEmpty(), depth, ']');
        }

        /** Before item {@code i}: ", " in the compact form; ",", a newline and the indent with one. */
        private void separate(int i, int depth) {
            if (indent < 0) {
                sb.append(i == 0 ? "" : ", ");
            } else {
                sb.append(i == 0 ? "\n" : ",\n").append(" ".repeat(indent * depth));
            }
        }

        private void close(boolean empty, int depth, char bracket) {
            if (indent >= 0 && !empty) {
                sb.append('\n').append(" ".repeat(indent * depth));
            }
            sb.append(bracket);
        }

        private void quote(String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> sb.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
                }
            }
            sb.append('"');
        }
    }
}

package dev.specdec.job.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.util.Collection;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Filters whose Jinjava versions differ from the Python Jinja2 ones that chat templates are written
 * for (and rendered with, in transformers): {@code trim} strips Python's whitespace (Java's trim
 * keeps a no-break or ideographic space), and {@code tojson} writes what transformers' {@code json.dumps}
 * writes (", " and ": " between items, no ASCII escaping), not Jinjava's compact form. Python string
 * methods in templates ({@code content.strip()}) would call Java's namesakes, which differ or do
 * not exist, so {@link #rewriteStringMethods} turns them into these filters.
 */
final class PythonFilters {
    private static final Pattern STRING_METHOD = Pattern.compile("\\.(strip|lstrip|rstrip|upper|lower)\\(\\)");
    private static final Map<String, String> METHOD_FILTER = Map.of("strip", "trim", "lstrip", "py_lstrip",
            "rstrip", "py_rstrip", "upper", "upper", "lower", "lower");

    private PythonFilters() {
    }

    /**
     * The template with {@code x.strip()} written {@code x|trim} (and lstrip, rstrip, upper and lower
     * likewise): a filter binds to the same operand as the method call.
     */
    static String rewriteStringMethods(String source) {
        Matcher m = STRING_METHOD.matcher(source);
        return m.replaceAll(r -> Matcher.quoteReplacement("|" + METHOD_FILTER.get(r.group(1))));
    }

    /** Python's {@code str.isspace()} for one code point. */
    static boolean isPythonSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    /** Python's {@code str.strip()}. */
    static String strip(String s) {
        return strip(s, true, true);
    }

    private static String strip(String s, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        while (left && start < end && isPythonSpace(s.codePointAt(start))) {
            start += Character.charCount(s.codePointAt(start));
        }
        while (right && end > start && isPythonSpace(s.codePointBefore(end))) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(start, end);
    }

    /** Python's {@code str.lstrip()}, as the filter that {@code .lstrip()} becomes. */
    static final class LeftStrip implements Filter {
        @Override
        public String getName() {
            return "py_lstrip";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return var == null ? "" : strip(var.toString(), true, false);
        }
    }

    /** Python's {@code str.rstrip()}, as the filter that {@code .rstrip()} becomes. */
    static final class RightStrip implements Filter {
        @Override
        public String getName() {
            return "py_rstrip";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return var == null ? "" : strip(var.toString(), false, true);
        }
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
            StringBuilder sb = new StringBuilder();
            write(var, sb);
            return sb.toString();
        }
    }

    /** {@code json.dumps(value, ensure_ascii=False)} for the values a template holds. */
    static void write(Object v, StringBuilder sb) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) {
            sb.append(v);
        } else if (v instanceof Number n) {
            sb.append(Double.toString(n.doubleValue()));
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            String sep = "";
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(sep);
                quote(String.valueOf(e.getKey()), sb);
                sb.append(": ");
                write(e.getValue(), sb);
                sep = ", ";
            }
            sb.append('}');
        } else if (v instanceof Collection<?> c) {
            sb.append('[');
            String sep = "";
            for (Object x : c) {
                sb.append(sep);
                write(x, sb);
                sep = ", ";
            }
            sb.append(']');
        } else {
            quote(v.toString(), sb);
        }
    }

    private static void quote(String s, StringBuilder sb) {
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
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}

package dev.specdec.job.chat;

import java.math.BigDecimal;
import java.util.Collection;
import java.util.Map;

/**
 * Values as Python writes them, for {@code {{ value }}} and {@code str.join}: {@code True},
 * {@code False}, {@code None}, {@code 2.0}, {@code 1e+20}, {@code ['a', None]},
 * {@code {'k': True}}; Jinjava would write {@code true}, nothing, {@code 1.0E20}.
 */
final class PythonRepr {
    private PythonRepr() {
    }

    /** Python's {@code str(value)}. */
    static String str(Object v) {
        return v instanceof String s ? s : repr(v);
    }

    /** Python's {@code repr(value)} for the values a template holds. */
    static String repr(Object v) {
        if (v == null) {
            return "None";
        } else if (v instanceof Boolean b) {
            return b ? "True" : "False";
        } else if (v instanceof String s) {
            return quote(s);
        } else if (v instanceof Double || v instanceof Float || v instanceof BigDecimal) {
            return floatRepr(((Number) v).doubleValue());
        } else if (v instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            m.forEach((k, x) -> sb.append(sb.length() > 1 ? ", " : "").append(repr(k)).append(": ").append(repr(x)));
            return sb.append('}').toString();
        } else if (v instanceof Collection<?> c) {
            StringBuilder sb = new StringBuilder("[");
            c.forEach(x -> sb.append(sb.length() > 1 ? ", " : "").append(repr(x)));
            return sb.append(']').toString();
        }
        return v.toString();
    }

    /**
     * Python's {@code repr(float)}: the shortest digits that read back, positional from 1e-4 up to
     * 1e16 (with ".0" when whole), else scientific with a signed exponent of two digits or more.
     */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        } else if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        } else if (d == 0) {
            return 1 / d < 0 ? "-0.0" : "0.0";
        }
        BigDecimal digits = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        double magnitude = Math.abs(d);
        if (magnitude >= 1e-4 && magnitude < 1e16) {
            String plain = digits.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String unscaled = digits.unscaledValue().abs().toString();
        int exponent = unscaled.length() - 1 - digits.scale();
        String mantissa = unscaled.length() == 1 ? unscaled : unscaled.charAt(0) + "." + unscaled.substring(1);
        String sign = d < 0 ? "-" : "";
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }

    /**
     * Python's {@code repr(str)}: single quotes unless the text holds one and no double quote;
     * backslash escapes for the quote, backslash, and characters Python does not print (controls,
     * separators such as U+00A0 or U+3000, format characters).
     */
    static String quote(String s) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(q);
        for (int i = 0; i < s.length(); i += Character.charCount(s.codePointAt(i))) {
            int c = s.codePointAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c == q) {
                        sb.append('\\').appendCodePoint(c);
                    } else if (printable(c)) {
                        sb.appendCodePoint(c);
                    } else {
                        sb.append(c < 0x100 ? String.format("\\x%02x", c)
                                : c < 0x10000 ? String.format("\\u%04x", c) : String.format("\\U%08x", c));
                    }
                }
            }
        }
        return sb.append(q).toString();
    }

    /** Python's {@code str.isprintable()} for one code point. */
    private static boolean printable(int c) {
        if (c == ' ') {
            return true;
        }
        return switch (Character.getType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
                    Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                    Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }
}

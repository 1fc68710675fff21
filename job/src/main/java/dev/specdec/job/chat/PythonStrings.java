package dev.specdec.job.chat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Python's {@code str} methods that chat templates call ({@code content.split('</think>')[-1]},
 * {@code role.startswith('tool')}, {@code text.strip()}), with Python's semantics: Java's namesakes
 * differ ({@code split} takes a regular expression, {@code strip} another set of spaces) or do not
 * exist. {@link PythonMethods} routes a template's method call on a string here.
 */
final class PythonStrings {
    private PythonStrings() {
    }

    /** Python's {@code str.isspace()} for one code point. */
    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    /** {@code s.startswith(prefix)}; {@code prefix} a string or a tuple (list) of strings. */
    static boolean startsWith(String s, Object prefix) {
        for (String p : alternatives(prefix)) {
            if (s.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    /** {@code s.endswith(suffix)}; {@code suffix} a string or a tuple (list) of strings. */
    static boolean endsWith(String s, Object suffix) {
        for (String p : alternatives(suffix)) {
            if (s.endsWith(p)) {
                return true;
            }
        }
        return false;
    }

    private static List<String> alternatives(Object o) {
        List<String> out = new ArrayList<>();
        if (o instanceof Collection<?> c) {
            c.forEach(x -> out.add(String.valueOf(x)));
        } else {
            out.add(String.valueOf(o));
        }
        return out;
    }

    /** {@code s.strip(chars)}, {@code lstrip} or {@code rstrip}: {@code chars} null for whitespace. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        while (left && start < end && stripped(s.codePointAt(start), chars)) {
            start += Character.charCount(s.codePointAt(start));
        }
        while (right && end > start && stripped(s.codePointBefore(end), chars)) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(start, end);
    }

    private static boolean stripped(int c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }

    /**
     * {@code s.split(sep, maxsplit)}: with {@code sep} null, runs of whitespace separate and the
     * ends are dropped; else each occurrence of {@code sep} separates. {@code maxsplit} below 0: no limit.
     */
    static List<String> split(String s, String sep, long maxSplit) {
        if (sep == null) {
            return splitOnSpace(s, maxSplit);
        }
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        List<String> parts = new ArrayList<>();
        int from = 0;
        int at;
        while ((maxSplit < 0 || parts.size() < maxSplit) && (at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    private static List<String> splitOnSpace(String s, long maxSplit) {
        List<String> parts = new ArrayList<>();
        int i = skipSpace(s, 0);
        while (i < s.length()) {
            if (maxSplit >= 0 && parts.size() == maxSplit) {
                // Python keeps the rest as it is, trailing whitespace included.
                parts.add(s.substring(i));
                return parts;
            }
            int end = i;
            while (end < s.length() && !isSpace(s.codePointAt(end))) {
                end += Character.charCount(s.codePointAt(end));
            }
            parts.add(s.substring(i, end));
            i = skipSpace(s, end);
        }
        return parts;
    }

    private static int skipSpace(String s, int i) {
        while (i < s.length() && isSpace(s.codePointAt(i))) {
            i += Character.charCount(s.codePointAt(i));
        }
        return i;
    }

    /** {@code s.replace(old, new, count)}; {@code count} below 0: every occurrence. */
    static String replace(String s, String old, String replacement, long count) {
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long n = 0; count < 0 || n < count; n++) {
            if (old.isEmpty()) {
                // Python's empty pattern matches before each character and at the end.
                sb.append(replacement);
                if (from == s.length()) {
                    break;
                }
                int step = Character.charCount(s.codePointAt(from));
                sb.append(s, from, from + step);
                from += step;
                continue;
            }
            int at = s.indexOf(old, from);
            if (at < 0) {
                break;
            }
            sb.append(s, from, at).append(replacement);
            from = at + old.length();
        }
        return sb.append(s, from, s.length()).toString();
    }

    /** {@code s.title()}: a cased letter after an uncased character is title-cased, others lowered. */
    static String title(String s) {
        StringBuilder sb = new StringBuilder();
        boolean previousCased = false;
        for (int i = 0; i < s.length(); i += Character.charCount(s.codePointAt(i))) {
            int c = s.codePointAt(i);
            boolean cased = Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
            String text = new String(Character.toChars(c));
            sb.append(!cased ? text : previousCased ? text.toLowerCase(Locale.ROOT) : titleCase(c));
            previousCased = cased;
        }
        return sb.toString();
    }

    /** {@code s.capitalize()}: the first character title-cased, the rest lowered (Python 3.8 on). */
    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return titleCase(first) + s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT);
    }

    /**
     * Python's full title-case mapping of one letter: Java's {@code toTitleCase} maps one code point
     * to one and leaves ß or ﬁ as they are, where Python writes "Ss" and "Fi" (the full upper-case
     * mapping's first letter, the rest lowered).
     */
    private static String titleCase(int c) {
        int title = Character.toTitleCase(c);
        String upper = new String(Character.toChars(c)).toUpperCase(Locale.ROOT);
        if (title != c || upper.codePointCount(0, upper.length()) == 1) {
            return new String(Character.toChars(title));
        }
        int first = upper.codePointAt(0);
        return new String(Character.toChars(first)) + upper.substring(Character.charCount(first)).toLowerCase(Locale.ROOT);
    }

    /** {@code s.join(items)}: the items as Python's str() writes them, {@code s} between. */
    static String join(String s, Collection<?> items) {
        List<String> texts = new ArrayList<>();
        items.forEach(x -> texts.add(PythonRepr.str(x)));
        return String.join(s, texts);
    }
}

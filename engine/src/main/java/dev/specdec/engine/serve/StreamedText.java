package dev.specdec.engine.serve;

import java.util.List;

/**
 * The part of a request's text that streaming may already show. Two things at the end of the text
 * can still change: an incomplete UTF-8 character (decoded as U+FFFD until its last byte arrives)
 * and the beginning of a stop string (if the string completes, the result's text ends before it).
 * Both wait for a later chunk.
 *
 * <p>The shown prefix depends only on the tokens generated so far, so after a recovery the
 * replayed chunks show the same text at the same offsets as before.
 */
public final class StreamedText {
    private static final char REPLACEMENT = '\uFFFD';

    private StreamedText() {
    }

    /** Length of the prefix of {@code text} (the decoded tokens so far) that is final. */
    public static int stableLength(String text, List<String> stops) {
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == REPLACEMENT) {
            end--;
        }
        int held = 0;
        for (String stop : stops) {
            // Longest suffix of text[0, end) that is a proper prefix of the stop string.
            for (int k = Math.min(stop.length() - 1, end); k > held; k--) {
                if (text.regionMatches(end - k, stop, 0, k)) {
                    held = k;
                    break;
                }
            }
        }
        int stable = end - held;
        // Never split a surrogate pair.
        if (stable > 0 && Character.isHighSurrogate(text.charAt(stable - 1))) {
            stable--;
        }
        return stable;
    }

    /**
     * The text a chunk adds: {@code next} minus the {@code shown} prefix, or empty if {@code next} does
     * not extend it (decoding a longer token sequence rewrote earlier text, which byte-level
     * tokenizers do not do; the result's text stays authoritative).
     */
    public static String delta(String shown, String next) {
        return next.length() > shown.length() && next.startsWith(shown) ? next.substring(shown.length()) : "";
    }

    public static int codePoints(String s) {
        return s.codePointCount(0, s.length());
    }
}

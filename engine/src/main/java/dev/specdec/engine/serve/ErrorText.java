package dev.specdec.engine.serve;

import java.util.regex.Pattern;

/**
 * The text of an error a request's result carries: the kind of failure and its message, with file
 * system paths taken out and cut to a few hundred characters. Results travel to clients; server
 * paths, stack text and megabytes of native messages do not belong in them (the log has the rest).
 */
public final class ErrorText {
    static final int MAX = 300;
    private static final Pattern PATH = Pattern.compile("(?<![\\w.])(/[\\w.@+-]+){2,}/?");

    private ErrorText() {
    }

    /** "what: kind (message)" for an exception, paths as {@code <path>}. */
    public static String of(String what, Throwable e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        int line = message.indexOf('\n');
        if (line >= 0) {
            message = message.substring(0, line);      // native messages go on with a backtrace
        }
        message = PATH.matcher(message).replaceAll("<path>");
        String text = what + ": " + e.getClass().getSimpleName() + (message.isBlank() ? "" : " (" + message.trim() + ")");
        return text.length() <= MAX ? text : text.substring(0, MAX - 3) + "...";
    }
}

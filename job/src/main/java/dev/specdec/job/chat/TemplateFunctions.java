package dev.specdec.job.chat;

import com.hubspot.jinjava.objects.date.StrftimeFormatter;

import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.Locale;

/**
 * The functions transformers gives every chat template: {@code raise_exception(message)}, with which
 * a template refuses a conversation (roles out of order, a role it does not know), and
 * {@code strftime_now(format)}, the current local time in Python's strftime format. Jinjava swallows
 * an exception thrown by a function into a generic render error, so the message of the first raise
 * of a render is kept here, per thread, for {@link ChatTemplate} to report.
 */
public final class TemplateFunctions {
    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();
    /** The system clock; tests fix it, as the goldens were rendered on a fixed day. */
    private static volatile Clock clock = Clock.systemDefaultZone();

    private TemplateFunctions() {
    }

    /** Called by templates; records the message and stops the expression. */
    public static String raiseException(Object message) {
        if (RAISED.get() == null) {
            RAISED.set(String.valueOf(message));
        }
        throw new IllegalStateException("raise_exception: " + message);
    }

    /** English names, as Python's strftime writes them in the C locale that servers run with. */
    public static String strftimeNow(String format) {
        return StrftimeFormatter.format(ZonedDateTime.now(clock), format, Locale.ENGLISH);
    }

    /** Makes {@code strftime_now} read {@code c}: for tests that compare a dated rendering byte for byte. */
    static void useClock(Clock c) {
        clock = c;
    }

    /** Forgets an earlier render's message; call before rendering. */
    static void clear() {
        RAISED.remove();
    }

    /** The message of the first {@code raise_exception} since {@link #clear()}, or null. */
    static String raised() {
        return RAISED.get();
    }
}

package dev.specdec.engine.progress;

import java.util.Locale;

/**
 * How long a counted piece of work still takes, from its average rate since it started: a run that
 * resumes at step 300 of 400 measures only the steps it did itself. The average (not the latest
 * interval) keeps the estimate steady when single steps vary, as they do on a shared machine.
 */
public final class Eta {
    private final long firstDone;
    private final long startNanos;

    /** An estimate for work that stands at {@code firstDone} units at time {@code startNanos}. */
    public Eta(long firstDone, long startNanos) {
        this.firstDone = firstDone;
        this.startNanos = startNanos;
    }

    long startNanos() {
        return startNanos;
    }

    /** Units per second since the start, or NaN before any unit is done or any time has passed. */
    public double rate(long done, long nowNanos) {
        double seconds = (nowNanos - startNanos) / 1e9;
        long units = done - firstDone;
        return units > 0 && seconds > 0 ? units / seconds : Double.NaN;
    }

    /** Seconds until {@code total} at the average rate so far; 0 when done, NaN while unknown. */
    public double secondsLeft(long done, long total, long nowNanos) {
        if (done >= total) {
            return 0;
        }
        double rate = rate(done, nowNanos);
        return Double.isNaN(rate) ? Double.NaN : (total - done) / rate;
    }

    /** A duration for people: {@code 45s}, {@code 2m13s}, {@code 1h05m}; {@code ?} when unknown. */
    public static String duration(double seconds) {
        if (Double.isNaN(seconds) || Double.isInfinite(seconds) || seconds < 0) {
            return "?";
        }
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s / 60) % 60);
    }

    /** A rate for people: {@code 2.1 steps/s} at one or more per second, else {@code 8.4 s/step}. */
    public static String rate(double perSecond, String unit, String units) {
        if (Double.isNaN(perSecond) || perSecond <= 0) {
            return "? " + units + "/s";
        }
        return perSecond >= 1
                ? String.format(Locale.ROOT, "%.1f %s/s", perSecond, units)
                : String.format(Locale.ROOT, "%.1f s/%s", 1 / perSecond, unit);
    }
}

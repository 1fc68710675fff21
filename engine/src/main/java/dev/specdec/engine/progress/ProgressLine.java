package dev.specdec.engine.progress;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The line people watch while a long command works ({@code bench}, {@code bench-job},
 * {@code train-drafter}, {@code train-base}, {@code batch}):
 * {@code train-drafter: step 120/400 (30%), 2.1 steps/s, ETA 2m13s}. Updates come as often as the
 * work likes; a line is printed at most once per interval, and always for the last unit, so a log
 * stays short and the final line says the work is complete. It goes to stderr by convention, where
 * it does not mix with a command's results.
 */
public final class ProgressLine {
    /** Often enough to show the work is alive, rarely enough to keep a log readable. */
    public static final long DEFAULT_INTERVAL_NANOS = 5_000_000_000L;

    private final String label;
    private final String unit;
    private final String units;
    private final long total;
    private final PrintStream out;
    private final long intervalNanos;
    private final LongSupplier clock;
    private final Eta eta;
    private long lastPrinted;
    private long done;
    private boolean finished;

    /**
     * @param label the command, as the line starts ({@code train-drafter})
     * @param unit one unit of work ({@code step}); its plural adds an s
     * @param firstDone units already done when this run starts (a resumed training), total all of them
     */
    public ProgressLine(String label, String unit, long firstDone, long total, PrintStream out) {
        this(label, unit, firstDone, total, out, DEFAULT_INTERVAL_NANOS, System::nanoTime);
    }

    ProgressLine(String label, String unit, long firstDone, long total, PrintStream out, long intervalNanos,
                 LongSupplier clock) {
        this.label = label;
        this.unit = unit;
        this.units = unit + "s";
        this.total = total;
        this.out = out;
        this.intervalNanos = intervalNanos;
        this.clock = clock;
        long now = clock.getAsLong();
        this.eta = new Eta(firstDone, now);
        this.done = firstDone;
        this.lastPrinted = now;
    }

    public void update(long done) {
        update(done, null);
    }

    /** Reports {@code units} more done, for work that counts as it goes rather than knowing its position. */
    public synchronized void advance(long units) {
        update(done + units, null);
    }

    /** Reports {@code done} units; {@code detail} (or null) ends the line, e.g. the current loss. */
    public synchronized void update(long done, String detail) {
        this.done = done;
        long now = clock.getAsLong();
        boolean last = done >= total && !finished;
        if (last || (!finished && now - lastPrinted >= intervalNanos)) {
            out.println(line(done, now, detail));
            out.flush();
            lastPrinted = now;
            finished = last;
        }
    }

    String line(long done, long nowNanos, String detail) {
        String pct = total > 0 ? String.format(Locale.ROOT, " (%d%%)", Math.min(100, done * 100 / total)) : "";
        String end = done >= total ? "done in " + Eta.duration((nowNanos - eta.startNanos()) / 1e9)
                : "ETA " + Eta.duration(eta.secondsLeft(done, total, nowNanos));
        return String.format(Locale.ROOT, "%s: %s %d/%d%s, %s, %s%s", label, unit, done, total, pct,
                Eta.rate(eta.rate(done, nowNanos), unit, units), end, detail == null || detail.isEmpty() ? "" : ", " + detail);
    }
}

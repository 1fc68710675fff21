package dev.specdec.engine.train;

import java.io.PrintStream;
import java.util.Locale;

/** Formats the one-line training progress report: step, loss, learning rate, throughput, ETA. */
public final class ProgressLine {
    private final PrintStream out;
    private final long totalSteps;
    private final long startNanos = System.nanoTime();
    private final long firstStep;

    public ProgressLine(PrintStream out, long firstStep, long totalSteps) {
        this.out = out;
        this.firstStep = firstStep;
        this.totalSteps = totalSteps;
    }

    public void report(long step, double loss, double lr, double gradNorm, double tokensPerSecond, String extra) {
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        long done = step - firstStep;
        double eta = done > 0 ? elapsed / done * (totalSteps - step) : Double.NaN;
        String norm = Double.isNaN(gradNorm) ? "" : String.format(Locale.ROOT, "  gnorm %.3f", gradNorm);
        out.println(String.format(Locale.ROOT, "step %d/%d  loss %.4f  lr %.2e%s  tok/s %.0f  elapsed %s  eta %s%s",
                step, totalSteps, loss, lr, norm, tokensPerSecond, hms(elapsed), hms(eta),
                extra == null || extra.isEmpty() ? "" : "  " + extra));
        out.flush();
    }

    public static String hms(double seconds) {
        if (Double.isNaN(seconds) || Double.isInfinite(seconds)) {
            return "--:--:--";
        }
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }
}

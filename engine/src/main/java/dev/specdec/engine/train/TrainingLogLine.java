package dev.specdec.engine.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The training log's line every {@code --log-every} steps: step, loss, learning rate, gradient norm,
 * throughput and whatever the trainer adds. How long is left is the stderr
 * {@link dev.specdec.engine.progress.ProgressLine}'s job, not this log's.
 */
final class TrainingLogLine {
    private final PrintStream out;
    private final long totalSteps;

    TrainingLogLine(PrintStream out, long totalSteps) {
        this.out = out;
        this.totalSteps = totalSteps;
    }

    void report(long step, double loss, double lr, double gradNorm, double tokensPerSecond, String extra) {
        String norm = Double.isNaN(gradNorm) ? "" : String.format(Locale.ROOT, "  gnorm %.3f", gradNorm);
        out.println(String.format(Locale.ROOT, "step %d/%d  loss %.4f  lr %.2e%s  tok/s %.0f%s",
                step, totalSteps, loss, lr, norm, tokensPerSecond,
                extra == null || extra.isEmpty() ? "" : "  " + extra));
        out.flush();
    }
}

package dev.specdec.job.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The batch command's progress line, refreshed once a second from the job's metrics: requests done
 * out of the total, errors, dead letters, generated tokens and the current token rate. On a
 * terminal it rewrites one line; otherwise it prints a line every few seconds.
 */
final class ProgressLine implements Runnable {
    private final FlinkRest rest;
    private final long total;
    private final PrintStream out;
    private final boolean terminal = System.console() != null;
    private final long startNanos = System.nanoTime();
    private volatile boolean stopped;
    private double lastTokens;
    private long lastNanos = System.nanoTime();
    private long lastPrinted;

    ProgressLine(FlinkRest rest, long total, PrintStream out) {
        this.rest = rest;
        this.total = total;
        this.out = out;
    }

    void stop() {
        stopped = true;
    }

    @Override
    public void run() {
        while (!stopped) {
            try {
                Thread.sleep(1000);
                print();
            } catch (InterruptedException e) {
                return;
            } catch (Exception metricsNotReady) {
                // The job is starting or finishing: try again next second.
            }
        }
        if (terminal) {
            out.println();
        }
    }

    private void print() throws Exception {
        double decoded = rest.sum(".completedRequests") + rest.sum(".failedRequests") + rest.sum(".cancelledRequests");
        double invalid = rest.sum(".invalidRequests");
        double dead = rest.sum(".deadLetters");
        double tokens = rest.sum(".verify.tokens");
        long now = System.nanoTime();
        double rate = (tokens - lastTokens) / ((now - lastNanos) / 1e9);
        lastTokens = tokens;
        lastNanos = now;
        long done = Math.round(decoded + invalid + dead);
        String line = String.format(Locale.ROOT, "%d/%d requests (%d invalid, %d dead letters)  %d tokens  %.1f tokens/s  %.0f s",
                done, total, Math.round(invalid), Math.round(dead), Math.round(tokens), Math.max(0, rate),
                (now - startNanos) / 1e9);
        if (terminal) {
            out.print("\r" + line + "   ");
            out.flush();
        } else if (now - lastPrinted > 5_000_000_000L) {
            out.println(line);
            lastPrinted = now;
        }
    }
}

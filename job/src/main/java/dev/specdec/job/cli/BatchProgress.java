package dev.specdec.job.cli;

import dev.specdec.engine.progress.ProgressLine;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The batch command's progress, read once a second from the job's metrics (requests decoded,
 * refused as invalid or sent to the dead letters, generated tokens) and shown as the shared
 * {@link ProgressLine}: {@code batch: request 120/500 (24%), 3.1 requests/s, ETA 2m02s, ...}.
 */
final class BatchProgress implements Runnable {
    private final FlinkRest rest;
    private final ProgressLine line;
    private volatile boolean stopped;
    private double lastTokens;
    private long lastNanos = System.nanoTime();

    BatchProgress(FlinkRest rest, long total, PrintStream out) {
        this.rest = rest;
        this.line = new ProgressLine("batch", "request", 0, total, out);
    }

    void stop() {
        stopped = true;
    }

    @Override
    public void run() {
        while (!stopped) {
            try {
                Thread.sleep(1000);
                report();
            } catch (InterruptedException e) {
                return;
            } catch (Exception metricsNotReady) {
                // The job is starting or finishing: try again next second.
            }
        }
    }

    private void report() throws Exception {
        double decoded = rest.sum(".completedRequests") + rest.sum(".failedRequests") + rest.sum(".cancelledRequests");
        double invalid = rest.sum(".invalidRequests");
        double dead = rest.sum(".deadLetters");
        double tokens = rest.sum(".verify.tokens");
        long now = System.nanoTime();
        // The token rate of the last second, not the average: it shows a stall at once.
        double tokenRate = (tokens - lastTokens) / ((now - lastNanos) / 1e9);
        lastTokens = tokens;
        lastNanos = now;
        line.update(Math.round(decoded + invalid + dead), String.format(Locale.ROOT,
                "%d invalid, %d dead letters, %d tokens, %.1f tokens/s", Math.round(invalid), Math.round(dead),
                Math.round(tokens), Math.max(0, tokenRate)));
    }
}

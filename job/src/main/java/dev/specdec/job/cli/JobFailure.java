package dev.specdec.job.cli;

import dev.specdec.engine.cli.CliException;

import java.util.concurrent.ExecutionException;

/** Turns a failed Flink job into one line for the user: the innermost cause, not Flink's wrappers. */
final class JobFailure {
    private JobFailure() {
    }

    static CliException of(String job, ExecutionException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = root.getMessage() == null ? root.getClass().getSimpleName()
                : root.getClass().getSimpleName() + ": " + root.getMessage();
        return new CliException(job + " failed: " + msg);
    }
}

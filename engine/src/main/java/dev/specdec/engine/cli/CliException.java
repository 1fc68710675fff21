package dev.specdec.engine.cli;

/** A user error: printed as one clear line, exit code 2, no stack trace. */
public class CliException extends RuntimeException {
    public CliException(String message) {
        super(message);
    }
}

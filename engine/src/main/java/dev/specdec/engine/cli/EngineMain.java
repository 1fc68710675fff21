package dev.specdec.engine.cli;

import dev.specdec.engine.model.ModelFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;

/** The engine's commands on their own (the job module's {@code specdec} command adds the Flink ones). */
@Command(name = "specdec-engine", mixinStandardHelpOptions = true,
        subcommands = {GenerateCommand.class, TrainBaseCommand.class, BenchEngineCommand.class})
public final class EngineMain {

    public static void main(String[] args) {
        System.exit(execute(new CommandLine(new EngineMain()), args));
    }

    /** Runs a command line, turning user errors into one-line messages and exit code 2. */
    public static int execute(CommandLine cl, String[] args) {
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Throwable cause = ex;
            if (cause instanceof UncheckedIOException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof CliException || cause instanceof ModelFormatException
                    || cause instanceof IllegalArgumentException || cause instanceof NoSuchFileException) {
                String msg = cause instanceof NoSuchFileException ? "file not found: " + cause.getMessage() : cause.getMessage();
                cmd.getErr().println("error: " + msg);
                return 2;
            }
            throw ex;
        });
        return cl.execute(args);
    }
}

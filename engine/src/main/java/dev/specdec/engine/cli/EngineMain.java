package dev.specdec.engine.cli;

import dev.specdec.engine.model.ModelFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;

/** The engine's commands on their own (the job module's {@code specdec} command adds the Flink ones). */
@Command(name = "specdec-engine", mixinStandardHelpOptions = true)
public final class EngineMain {
    /** The engine's subcommands, registered by every top-level command line. */
    public static final java.util.List<Class<?>> COMMANDS = java.util.List.of(GenerateCommand.class,
            TrainBaseCommand.class, TrainDrafterCommand.class, BenchEngineCommand.class, BenchCommand.class,
            TokenizeCommand.class);

    /** Adds the engine's subcommands to a command line. */
    public static CommandLine withEngineCommands(CommandLine cl) {
        for (Class<?> c : COMMANDS) {
            cl.addSubcommand(c);
        }
        return cl;
    }

    public static void main(String[] args) {
        System.exit(execute(withEngineCommands(new CommandLine(new EngineMain())), args));
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

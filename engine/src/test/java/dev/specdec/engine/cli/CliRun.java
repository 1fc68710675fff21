package dev.specdec.engine.cli;

import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** Runs an engine command line in this JVM as {@code bin/specdec} would: exit code, stdout and stderr. */
final class CliRun {
    /** {@code err} is what the command line reports (errors); {@code stderr} what else went to System.err (progress). */
    record Result(int code, String out, String err, String stderr) {
    }

    private CliRun() {
    }

    static Result run(String... args) {
        StringWriter err = new StringWriter();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = EngineMain.withEngineCommands(new CommandLine(new EngineMain()));
            cl.setErr(new PrintWriter(err, true));
            int code = EngineMain.execute(cl, args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(),
                    stderr.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}

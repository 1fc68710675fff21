package dev.specdec.engine.cli;

import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** Runs an engine command line in this JVM as {@code bin/specdec} would: exit code, stdout and stderr. */
final class CliRun {
    record Result(int code, String out, String err) {
    }

    private CliRun() {
    }

    static Result run(String... args) {
        StringWriter err = new StringWriter();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = EngineMain.withEngineCommands(new CommandLine(new EngineMain()));
            cl.setErr(new PrintWriter(err, true));
            int code = EngineMain.execute(cl, args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }
}

package dev.specdec.job.cli;

import dev.specdec.cli.SpecdecMain;
import dev.specdec.job.cluster.ChildJvm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code specdec} command in a JVM of its own, so that a test can kill it as a crash would
 * ({@code kill -9}: no shutdown hook, no cancel, no flush) and start it again.
 */
final class CommandProcess implements AutoCloseable {
    private final Process process;
    private final StringBuffer out = new StringBuffer();
    private final StringBuffer err = new StringBuffer();

    private CommandProcess(Process process) {
        this.process = process;
        pump(process.getInputStream(), out, "out");
        pump(process.getErrorStream(), err, "err");
    }

    static CommandProcess start(String... args) throws IOException {
        return new CommandProcess(ChildJvm.processBuilder(SpecdecMain.class.getName(), List.of(args), List.of("-Xmx1g"))
                .start());
    }

    private static void pump(InputStream in, StringBuffer to, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    to.append(line).append('\n');
                }
            } catch (IOException e) {
                // the process is gone
            }
        }, "command-" + name);
        t.setDaemon(true);
        t.start();
    }

    /** Waits for a line of standard output that starts with {@code prefix}; fails if the process ends first. */
    String awaitLine(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (String line : out.toString().lines().toList()) {
                if (line.startsWith(prefix)) {
                    return line;
                }
            }
            if (!process.isAlive()) {
                throw new AssertionError("the command ended (exit " + process.exitValue() + ") before printing '" + prefix
                        + "'\nstdout:\n" + out + "\nstderr:\n" + tail(err));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no line '" + prefix + "' within " + timeout + "\nstderr:\n" + tail(err));
    }

    String stdout() {
        return out.toString();
    }

    String stderr() {
        return err.toString();
    }

    /** Waits for the process to end by itself and returns its exit code. */
    int await(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the command did not end within " + timeout + "\nstderr:\n" + tail(err));
        }
        return process.exitValue();
    }

    /** SIGKILL, as {@code kill -9}: the JVM gets no chance to clean up. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    static String tail(StringBuffer b) {
        String s = b.toString();
        return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }
}

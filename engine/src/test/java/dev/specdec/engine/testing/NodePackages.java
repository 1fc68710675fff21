package dev.specdec.engine.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tests that drive real JavaScript clients (the openai npm client, transformers.js) keep a
 * {@code package.json} with a {@code package-lock.json} beside them. This installs exactly the locked
 * versions once ({@code npm ci}, from the npm registry) so that {@code mvn verify} needs nothing but
 * Node.js on the machine. A failure to install is a test failure, not a skip.
 */
public final class NodePackages {
    private NodePackages() {
    }

    /** Installs {@code dir}'s locked packages unless its node_modules is already complete; returns dir. */
    public static synchronized Path ensureInstalled(Path dir) throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(dir.resolve("package-lock.json")), "no package-lock.json in " + dir);
        Path marker = dir.resolve("node_modules/.package-lock.json");
        if (Files.isRegularFile(marker)
                && Files.getLastModifiedTime(marker).compareTo(Files.getLastModifiedTime(dir.resolve("package-lock.json"))) >= 0) {
            return dir;
        }
        // npm's output goes to a file, not to this JVM's stdout: Surefire talks to its forked test JVM
        // over that stream, and a child process writing into it corrupts the protocol.
        Path log = Files.createTempFile("npm-ci", ".log");
        Process p = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "npm ci timed out in " + dir);
        assertEquals(0, p.exitValue(), "npm ci failed in " + dir + ":\n" + Files.readString(log));
        Files.delete(log);
        return dir;
    }

    /** Runs {@code node script args...} in dir and returns its exit code; output goes to the test log. */
    public static Process node(Path dir, String script, String... args) throws IOException {
        String[] cmd = new String[args.length + 2];
        cmd[0] = "node";
        cmd[1] = script;
        System.arraycopy(args, 0, cmd, 2, args.length);
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    }
}

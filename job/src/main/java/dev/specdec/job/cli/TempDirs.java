package dev.specdec.job.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Temporary folders of a command (checkpoints, broker data), deleted when the JVM exits, also on Ctrl-C. */
final class TempDirs {
    private static final List<Path> DIRS = new ArrayList<>();
    private static boolean hooked;

    private TempDirs() {
    }

    static synchronized Path create(String prefix) throws IOException {
        Path dir = Files.createTempDirectory(prefix);
        DIRS.add(dir);
        if (!hooked) {
            hooked = true;
            Runtime.getRuntime().addShutdownHook(new Thread(TempDirs::deleteAll, "specdec-temp-cleanup"));
        }
        return dir;
    }

    private static synchronized void deleteAll() {
        DIRS.forEach(TempDirs::delete);
        DIRS.clear();
    }

    static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // Already gone, or not ours to remove: a temporary folder left behind is harmless.
        }
    }
}

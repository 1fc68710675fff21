package dev.specdec.job.cli;

import dev.specdec.job.pipeline.JobEnvironment;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.RecoveryClaimMode;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A local run's checkpoint folder that outlives the process: checkpoints are kept when the job is
 * cancelled or the process dies, and the next run started on the same folder resumes from the
 * newest one, so requests answered before a crash are not answered again and requests in flight
 * continue where their last checkpoint left them. Flink writes
 * {@code <folder>/<job id>/chk-<n>/_metadata} when a checkpoint is complete; a checkpoint without
 * its {@code _metadata} was cut short and is never chosen.
 */
public final class LocalCheckpoints {
    private static final String METADATA = "_metadata";

    private LocalCheckpoints() {
    }

    /**
     * Checkpoints to {@code dir}, kept when the job is cancelled or its process dies, and, if
     * {@code resume}, restored from the newest complete one there.
     */
    public static void keepIn(Configuration conf, Path dir, boolean resume) throws IOException {
        Files.createDirectories(dir);
        JobEnvironment.checkpointsIn(conf, dir.toUri().toString());
        conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION, ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        if (resume) {
            resumeFrom(dir, conf, System.err);
        }
    }

    /**
     * When {@code dir} holds a complete checkpoint, restores the newest (taking it over: it is
     * deleted once a newer one completes). Says so on {@code log}.
     */
    public static Optional<Path> resumeFrom(Path dir, Configuration conf, PrintStream log) throws IOException {
        Optional<Path> latest = latest(dir);
        if (latest.isEmpty()) {
            log.println("specdec: no checkpoint in " + dir + "; starting fresh (a restart on this folder resumes)");
            return latest;
        }
        Path chk = latest.get();
        conf.set(StateRecoveryOptions.SAVEPOINT_PATH, chk.toUri().toString());
        conf.set(StateRecoveryOptions.RESTORE_MODE, RecoveryClaimMode.CLAIM);
        Instant at = Files.getLastModifiedTime(chk.resolve(METADATA)).toInstant();
        log.println("specdec: resuming from checkpoint " + chk + " (taken " + at + ")");
        removeEmptyJobFolders(dir, chk);
        return latest;
    }

    /** The newest complete checkpoint or savepoint in any of {@code dirs}, if any. */
    public static Optional<Path> latest(Path... dirs) throws IOException {
        Optional<Path> best = Optional.empty();
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> files = Files.find(dir, 3, (p, a) -> a.isRegularFile()
                    && p.getFileName().toString().equals(METADATA)
                    && (p.getParent().getFileName().toString().startsWith("chk-")
                    || p.getParent().getFileName().toString().startsWith("savepoint-")))) {
                Optional<Path> newest = files.max(Comparator.comparing(LocalCheckpoints::modified));
                if (newest.isPresent() && (best.isEmpty() || modified(newest.get()).compareTo(modified(best.get())) > 0)) {
                    best = newest;
                }
            }
        }
        return best.map(Path::getParent);
    }

    /** Deletes every job's checkpoints in {@code dir}; other files there are not touched. */
    public static void clear(Path dir) throws IOException {
        for (Path job : jobFolders(dir)) {
            TempDirs.delete(job);
        }
    }

    /** Job folders of earlier runs whose checkpoints were all taken over or subsumed. */
    private static void removeEmptyJobFolders(Path dir, Path keep) throws IOException {
        for (Path job : jobFolders(dir)) {
            if (!keep.startsWith(job) && latest(job).isEmpty()) {
                TempDirs.delete(job);
            }
        }
    }

    /** The folders Flink made in {@code dir}, one per job, named by its 32-digit hex id. */
    private static List<Path> jobFolders(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).filter(j -> j.getFileName().toString().matches("[0-9a-f]{32}")).toList();
        }
    }

    private static FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

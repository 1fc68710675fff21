package dev.specdec.engine.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Periodic training checkpoints under {@code <out>/checkpoints/step-NNNNNNN/}: the parameters, the
 * optimiser moments and a {@code trainer.json} with the step and run settings. A checkpoint directory
 * is complete only once {@code trainer.json} exists (written last, atomically), so an interrupted
 * save is ignored on resume. The newest {@code keep} checkpoints are kept.
 */
public final class TrainingCheckpoints {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final Path root;
    private final int keep;

    public TrainingCheckpoints(Path out, int keep) {
        this.root = out.resolve("checkpoints");
        this.keep = keep;
    }

    public Path directoryFor(long step) {
        return root.resolve(String.format("step-%07d", step));
    }

    /** Marks a checkpoint directory complete by writing its state file last, then prunes old ones. */
    public void commit(long step, ObjectNode state) throws IOException {
        Path dir = directoryFor(step);
        Path tmp = dir.resolve("trainer.json.tmp");
        Files.writeString(tmp, JSON.writeValueAsString(state));
        Files.move(tmp, dir.resolve("trainer.json"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        List<Path> all = complete();
        for (int i = 0; i < all.size() - keep; i++) {
            deleteTree(all.get(i));
        }
    }

    /** Complete checkpoints, oldest first. */
    public List<Path> complete() throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (Stream<Path> s = Files.list(root)) {
            s.filter(p -> p.getFileName().toString().startsWith("step-"))
                    .filter(p -> Files.isRegularFile(p.resolve("trainer.json")))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .forEach(out::add);
        }
        return out;
    }

    /** The newest complete checkpoint's state, or null. */
    public JsonNode latestState() throws IOException {
        List<Path> all = complete();
        if (all.isEmpty()) {
            return null;
        }
        ObjectNode state = (ObjectNode) JSON.readTree(all.get(all.size() - 1).resolve("trainer.json").toFile());
        state.put("_dir", all.get(all.size() - 1).toString());
        return state;
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            List<Path> paths = s.sorted(Comparator.reverseOrder()).toList();
            for (Path x : paths) {
                Files.deleteIfExists(x);
            }
        }
    }
}

package dev.specdec.engine.model;

import dev.specdec.engine.io.CheckpointReader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Which base model a checkpoint folder holds, independent of how its files are laid out: a hash of
 * the model's shape (the parsed config) and of every tensor's name, shape and a sample of its values
 * (the first and last {@link #SAMPLE} as float32). One file or shards with an index, F32 or an F16
 * copy of the same weights: the same fingerprint. A fine-tune or a rounded (BF16) copy: another.
 * Reading the samples touches a few kilobytes per tensor, so it is cheap for any model size.
 *
 * <p>A drafter records its base model's fingerprint when trained; the engine refuses a drafter
 * whose fingerprint names another model, and the trainer keys its feature cache by it.
 */
public final class ModelFingerprint {
    static final int SAMPLE = 64;
    private static final String PREFIX = "sha256:";

    private ModelFingerprint() {
    }

    public static String of(Path modelDir) throws IOException {
        ModelConfig config = ModelConfig.load(modelDir);
        MessageDigest digest = sha256();
        digest.update(config.toString().getBytes(StandardCharsets.UTF_8));
        try (CheckpointReader r = CheckpointReader.open(modelDir)) {
            for (String name : r.names()) {
                long[] shape = r.shapeOf(name);
                digest.update((name + Arrays.toString(shape)).getBytes(StandardCharsets.UTF_8));
                long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
                long head = Math.min(SAMPLE, n);
                digest.update(bytes(r.sample(name, 0, head)));
                if (n > head) {
                    long tail = Math.min(SAMPLE, n - head);
                    digest.update(bytes(r.sample(name, n - tail, tail)));
                }
            }
        }
        return PREFIX + HexFormat.of().formatHex(digest.digest(), 0, 16);
    }

    private static byte[] bytes(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs at image build time (stage "natives" of deploy/docker/Dockerfile), never in a running container.
 *
 * <p>It asks DJL's own PyTorch library lookup ({@code ai.djl.pytorch.jni.LibUtils}) to find the native
 * libraries, without loading them: with {@code pytorch-native-cpu} on the class path they are extracted
 * from that jar; without it, DJL downloads the build named by {@code PYTORCH_FLAVOR} (e.g. {@code cu128})
 * into its cache. Then it extracts the matching JNI library from the {@code pytorch-jni} classes inside
 * the job jar. Everything lands under {@code DJL_CACHE_DIR}, which the final image keeps, so a
 * TaskManager started with {@code DJL_OFFLINE=true} finds everything there and opens no connection.
 * Nothing is loaded here because a CUDA build cannot be loaded on a build machine without a GPU driver.
 *
 * <p>Run as a single-file program: {@code java -cp specdec-job.jar:slf4j-api.jar PrefetchNatives.java}.
 */
public final class PrefetchNatives {
    private PrefetchNatives() {
    }

    public static void main(String[] args) throws Exception {
        Class<?> libUtils = Class.forName("ai.djl.pytorch.jni.LibUtils");
        Method getLibTorch = libUtils.getDeclaredMethod("getLibTorch");
        getLibTorch.setAccessible(true);
        Object libTorch = getLibTorch.invoke(null);

        Method findJni = libUtils.getDeclaredMethod("findJniLibrary", libTorch.getClass());
        findJni.setAccessible(true);
        Path jni = (Path) findJni.invoke(null, libTorch);

        Path dir = (Path) field(libTorch, "dir");
        String flavor = (String) field(libTorch, "flavor");
        String expected = System.getenv("PYTORCH_FLAVOR");
        if (expected != null && !expected.isEmpty() && !expected.equals(flavor)) {
            throw new IllegalStateException("asked for PyTorch flavor " + expected + " but DJL chose " + flavor
                    + " (a CUDA build falls back to cpu when DJL has none for this version)");
        }
        Path libtorch = dir.resolve(System.mapLibraryName("torch"));
        if (!Files.isRegularFile(libtorch) || !Files.isRegularFile(jni)) {
            throw new IllegalStateException("native libraries missing: " + libtorch + ", " + jni);
        }
        System.out.println("PyTorch " + field(libTorch, "version") + " (" + flavor + ") in " + dir);
        System.out.println("JNI library " + jni);
    }

    private static Object field(Object o, String name) throws ReflectiveOperationException {
        Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }
}

package dev.specdec.engine.compiled;

import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A TorchScript module written by the engine itself, with no Python anywhere: the archive
 * {@code torch.jit.save} would write for a module of one class whose only attribute is
 * {@code training} and whose weights come in as arguments. libtorch compiles the source when DJL
 * loads the archive ({@link #load}); the module then runs a whole forward pass in one native call.
 *
 * <p>Layout (a zip with one top folder): {@code version} (the file format, 10: lower versions bring
 * back old operator semantics such as integer {@code div}), {@code data.pkl} (a protocol-2 pickle
 * of the module object: its class, then a dict of its attributes), {@code constants.pkl} (an empty
 * tuple) and {@code code/__torch__.py} (the class {@code __torch__.<name>}).
 */
public final class TorchScriptArchive {
    private static final int FILE_FORMAT_VERSION = 10;

    private TorchScriptArchive() {
    }

    /**
     * The archive of a module class {@code className} whose body (methods, indented by two spaces)
     * is {@code methods}. The class header, the attribute declarations and the imports are added here.
     */
    public static byte[] write(String className, String methods) throws IOException {
        String code = "class " + className + "(Module):\n"
                + "  __parameters__ = []\n"
                + "  __buffers__ = []\n"
                + "  training : bool\n"
                + methods;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            String root = "archive/";
            put(zip, root + "version", (FILE_FORMAT_VERSION + "\n").getBytes(StandardCharsets.US_ASCII));
            put(zip, root + "data.pkl", modulePickle(className));
            put(zip, root + "constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            put(zip, root + "code/__torch__.py", code.getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toByteArray();
    }

    /** Loads an archive onto the manager's device; the source is compiled here (errors name file and line). */
    public static PtSymbolBlock load(PtNDManager manager, byte[] archive) throws IOException {
        return JniUtils.loadModule(manager, new ByteArrayInputStream(archive), false, false);
    }

    private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(data);
        zip.closeEntry();
    }

    /**
     * {@code __torch__.<className>} with {@code {'training': False}}: PROTO 2, GLOBAL, EMPTY_TUPLE,
     * NEWOBJ, EMPTY_DICT, MARK, key, NEWFALSE, SETITEMS, BUILD, STOP.
     */
    static byte[] modulePickle(String className) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80);
        p.write(2);
        p.writeBytes(("c__torch__\n" + className + "\n").getBytes(StandardCharsets.US_ASCII));
        p.write(')');
        p.write(0x81);
        p.write('}');
        p.write('(');
        byte[] key = "training".getBytes(StandardCharsets.UTF_8);
        p.write('X');
        p.write(key.length);
        p.write(0);
        p.write(0);
        p.write(0);
        p.writeBytes(key);
        p.write(0x89);
        p.write('u');
        p.write('b');
        p.write('.');
        return p.toByteArray();
    }
}

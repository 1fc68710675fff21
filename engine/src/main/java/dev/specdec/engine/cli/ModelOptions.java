package dev.specdec.engine.cli;

import ai.djl.Device;
import dev.specdec.engine.TorchThreads;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --model} and {@code --device}, shared by every command that loads a model. */
public final class ModelOptions {
    @Option(names = "--model", description = "HuggingFace checkpoint folder (default: the bundled model).")
    Path model;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, gpu or gpu:N (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--forward", defaultValue = "compiled",
            description = "compiled (each forward pass one TorchScript call; default) or eager (one DJL call per operation).")
    String forward;

    public Path modelDir() {
        return model != null ? model : Defaults.bundledModel();
    }

    public Device device() {
        return parseDevice(device);
    }

    public static Device parseDevice(String name) {
        String n = name.trim().toLowerCase(java.util.Locale.ROOT);
        if (n.equals("cpu")) {
            return Device.cpu();
        }
        if (n.equals("gpu") || n.equals("cuda")) {
            return Device.gpu();
        }
        if (n.startsWith("gpu:") || n.startsWith("cuda:")) {
            return Device.gpu(Integer.parseInt(n.substring(n.indexOf(':') + 1)));
        }
        throw new CliException("unknown device '" + name + "' (use cpu, gpu or gpu:N)");
    }

    @Option(names = "--intra-op-threads", defaultValue = "0",
            description = {"PyTorch threads for the model's arithmetic (default 0: automatic, one core left free;",
                    "1 on a 2-core machine; see TorchThreads)."})
    int intraOpThreads;

    /** The thread count this command's engine uses ({@link TorchThreads#forCommand}). */
    public int intraOpThreads() {
        if (intraOpThreads < 0) {
            throw new CliException("--intra-op-threads must be at least 0 (0 = automatic), got " + intraOpThreads);
        }
        return intraOpThreads > 0 ? intraOpThreads : TorchThreads.forCommand(Runtime.getRuntime().availableProcessors());
    }

    public dev.specdec.engine.ForwardMode forward() {
        try {
            return dev.specdec.engine.ForwardMode.parse(forward);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
    }

    /** Opens the model on this thread, which then makes the model calls with {@link #intraOpThreads} threads. */
    public dev.specdec.engine.EngineSession open(int maxBatch) throws java.io.IOException {
        TorchThreads.use(intraOpThreads());
        return dev.specdec.engine.EngineSession.open(modelDir(), device(), maxBatch, forward());
    }
}

package dev.specdec.engine.cli;

import ai.djl.Device;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --model} and {@code --device}, shared by every command that loads a model. */
public final class ModelOptions {
    @Option(names = "--model", description = "HuggingFace checkpoint folder (default: the bundled model).")
    Path model;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, gpu or gpu:N (default ${DEFAULT-VALUE}).")
    String device;

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

    public dev.specdec.engine.EngineSession open(int maxBatch) throws java.io.IOException {
        return dev.specdec.engine.EngineSession.open(modelDir(), device(), maxBatch);
    }
}

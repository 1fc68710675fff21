package dev.specdec.engine;

import java.util.Locale;

/**
 * How the engine runs its forward passes. {@link #COMPILED} (the default) runs each pass of the
 * base model and the CTC drafter's whole draft chain as one TorchScript call, which the engine
 * writes from the checkpoint's shape and loads through DJL; {@link #EAGER} issues one DJL call per
 * operation. Both give the same tokens; the eager path stays for models or devices the compiled
 * one cannot serve, and for training.
 */
public enum ForwardMode {
    EAGER,
    COMPILED;

    public static ForwardMode parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "eager" -> EAGER;
            case "compiled" -> COMPILED;
            default -> throw new IllegalArgumentException("unknown forward '" + name + "' (use compiled or eager)");
        };
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}

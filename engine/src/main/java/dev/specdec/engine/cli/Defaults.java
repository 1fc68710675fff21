package dev.specdec.engine.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Where the bundled model and data live: under {@code specdec.home} (set by bin/specdec) or the working directory. */
public final class Defaults {
    public static final String BUNDLED_MODEL = "models/kjv-llama-12m";
    public static final String CTC_DRAFTER = "drafter-ctc";
    public static final String MEDUSA_DRAFTER = "drafter-medusa";

    private Defaults() {
    }

    public static Path home() {
        String h = System.getProperty("specdec.home");
        if (h == null) {
            h = System.getenv("SPECDEC_HOME");
        }
        if (h != null) {
            return Paths.get(h);
        }
        Path cur = Paths.get("").toAbsolutePath();
        for (Path p = cur; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve(BUNDLED_MODEL))) {
                return p;
            }
        }
        return cur;
    }

    public static Path bundledModel() {
        return home().resolve(BUNDLED_MODEL);
    }

    public static Path resolve(String relative) {
        return home().resolve(relative);
    }
}

package dev.specdec.engine.cli;

import dev.specdec.engine.DecoderOptions;
import dev.specdec.engine.request.DecodingMethod;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * {@code --drafter}, {@code --drafter-dir}, {@code --tree}, {@code --draft-width}:
 * how to decode, for every command (the job's commands name the default for requests that do not choose).
 */
public final class DrafterOptions {
    @Option(names = "--drafter", defaultValue = "auto",
            description = "ctc, ctc-faithful, medusa, ngram (prompt lookup), none (plain decoding) or auto (default: ctc"
                    + " when the model has a CTC drafter in drafter-ctc/, else none).")
    String drafter;

    @Option(names = "--drafter-dir", description = "Drafter folder (default: drafter-ctc/ or drafter-medusa/ beside the model).")
    Path drafterDir;

    @Option(names = "--tree", description = "Draft tree: auto (a chain whose depth is chosen per step from measured costs),"
            + " auto:N, paper (63 nodes), ranked:N (confidence-ranked, N nodes) or chain:N (default from drafter.json).")
    String tree;

    @Option(names = "--draft-width", description = "Candidates kept per draft depth (default from drafter.json).")
    Integer width;

    /** The method as given ({@code auto} included). */
    public String name() {
        return drafter;
    }

    public Path drafterDir() {
        return drafterDir;
    }

    /** The method {@code --drafter} stands for with a model in {@code modelDir} ({@code auto} resolved there). */
    public DecodingMethod method(Path modelDir) {
        return DecodingMethod.resolve(drafter, modelDir, drafterDir);
    }

    public DecoderOptions decoderOptions() {
        return new DecoderOptions(drafterDir == null ? null : drafterDir.toAbsolutePath().toString(), tree, width);
    }
}

package dev.specdec.engine.cli;

import dev.specdec.engine.EngineSession;
import dev.specdec.engine.generate.Decoder;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** {@code --drafter}, {@code --drafter-dir}, {@code --tree}, {@code --top-k-draft}: how to decode. */
public final class DrafterOptions {
    @Option(names = "--drafter", defaultValue = "auto",
            description = "ctc, ctc-faithful, medusa, none (plain decoding) or auto (default: ctc when the model has a"
                    + " CTC drafter in drafter-ctc/, else none).")
    String drafter;

    @Option(names = "--drafter-dir", description = "Drafter folder (default: drafter-ctc/ or drafter-medusa/ beside the model).")
    Path drafterDir;

    @Option(names = "--tree", description = "Draft tree: paper (63 nodes), ranked:N (confidence-ranked, N nodes) or chain:N.")
    String tree;

    @Option(names = "--draft-width", description = "Candidates kept per draft depth (default from drafter.json).")
    Integer width;

    @Option(names = "--chain-stop", description = "CTC drafter: stop the draft chain when its probability falls below this.")
    Double chainStop;

    public String name() {
        return drafter;
    }

    public Decoder decoder(EngineSession session) throws IOException {
        return session.decoder(drafter, new EngineSession.DecoderOptions(drafterDir, tree, width, chainStop));
    }
}

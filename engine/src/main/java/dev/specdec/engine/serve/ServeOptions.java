package dev.specdec.engine.serve;

import dev.specdec.engine.DecoderOptions;
import dev.specdec.engine.ForwardMode;
import dev.specdec.engine.request.DecodingMethod;

import java.io.Serializable;

/**
 * How a {@link BatchScheduler} serves: the batch it decodes together, the warm-up it runs before the
 * first request, the PyTorch threads of its engine thread, whether it reports streamed text, and the
 * decoder settings per method.
 *
 * @param maxBatch       requests decoded together in one step
 * @param warmUpTokens   tokens each of a full batch of synthetic requests decodes at start (0: none)
 * @param intraOpThreads PyTorch threads of the engine thread (0: the caller decides)
 * @param streamText     report each step's stable text ({@link SequenceUpdate#text()}) for streaming
 * @param defaultMethod  the method whose drafter the options' folder names, loaded at start
 * @param decoder        tree, width, chain stop and drafter folder for the speculative methods
 * @param forward        compiled (one TorchScript call per forward pass) or eager
 */
public record ServeOptions(int maxBatch, int warmUpTokens, int intraOpThreads, boolean streamText,
                           DecodingMethod defaultMethod, DecoderOptions decoder, ForwardMode forward)
        implements Serializable {

    public ServeOptions {
        if (maxBatch < 1 || maxBatch > 1024) {
            throw new IllegalArgumentException("batch size must be in [1, 1024], got " + maxBatch);
        }
        if (warmUpTokens < 0 || warmUpTokens > 1024) {
            throw new IllegalArgumentException("warm-up tokens must be in [0, 1024], got " + warmUpTokens);
        }
        if (intraOpThreads < 0 || intraOpThreads > 1024) {
            throw new IllegalArgumentException("intra-op threads must be in [0, 1024] (0 = automatic), got "
                    + intraOpThreads);
        }
        java.util.Objects.requireNonNull(forward, "forward mode");
        if (decoder.width() != null && decoder.width() < 1) {
            throw new IllegalArgumentException("draft width must be at least 1");
        }
    }

    /** Options for an engine command: no warm-up, no streaming, decoder settings from the drafter folder. */
    public static ServeOptions forBatch(int maxBatch, DecodingMethod method) {
        return new ServeOptions(maxBatch, 0, 0, false, method, DecoderOptions.DEFAULTS, ForwardMode.COMPILED);
    }

    /**
     * The decoder options for a method. A drafter folder given for the default method applies to the
     * methods that share its drafter (ctc and ctc-faithful); others read their own folder beside the model.
     */
    public DecoderOptions decoderOptions(DecodingMethod m) {
        boolean sameDrafter = m == defaultMethod || (m.hasDrafterFolder()
                && m.drafterFolder().equals(defaultMethod.drafterFolder()));
        return sameDrafter ? decoder : decoder.withoutDrafterDir();
    }

    public ServeOptions withMaxBatch(int n) {
        return new ServeOptions(n, warmUpTokens, intraOpThreads, streamText, defaultMethod, decoder, forward);
    }

    public ServeOptions withIntraOpThreads(int n) {
        return new ServeOptions(maxBatch, warmUpTokens, n, streamText, defaultMethod, decoder, forward);
    }
}

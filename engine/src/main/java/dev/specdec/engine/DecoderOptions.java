package dev.specdec.engine;

import java.io.Serializable;

/**
 * How to build a speculative decoder; every null takes the drafter folder's own setting
 * ({@code drafter.json}).
 *
 * @param drafterDir the drafter folder (default: the method's folder beside the model)
 * @param tree       draft tree: {@code auto}, {@code auto:N}, {@code paper}, {@code ranked:N} or {@code chain:N}
 * @param width      candidates kept per draft depth
 */
public record DecoderOptions(String drafterDir, String tree, Integer width) implements Serializable {
    public static final DecoderOptions DEFAULTS = new DecoderOptions(null, null, null);

    /** These options without the drafter folder (for a method whose drafter lives elsewhere). */
    public DecoderOptions withoutDrafterDir() {
        return new DecoderOptions(null, tree, width);
    }
}

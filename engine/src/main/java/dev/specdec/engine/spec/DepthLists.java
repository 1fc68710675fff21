package dev.specdec.engine.spec;

/**
 * A drafter's proposals for the next few positions: for each depth d (1 = the token after the
 * current last token), the top-k token ids with their draft log-probabilities, best first.
 * Depth lists beyond the first are conditioned on the top-1 chain (as in the CTC-drafter and
 * Medusa), so every tree node at depth d draws from the same list.
 */
public record DepthLists(int[][] tokens, float[][] logProbs) {

    public DepthLists {
        if (tokens.length != logProbs.length) {
            throw new IllegalArgumentException("tokens and log-probabilities differ in depth");
        }
    }

    public int depth() {
        return tokens.length;
    }

    public int width() {
        return tokens.length == 0 ? 0 : tokens[0].length;
    }
}

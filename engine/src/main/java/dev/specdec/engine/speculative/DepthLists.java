package dev.specdec.engine.speculative;

/**
 * A drafter's proposals for the next few positions: for each depth d (1 = the token after the
 * current last token), the top-k token ids with their draft log-probabilities, best first.
 * Depth lists beyond the first are conditioned on the top-1 chain (as in the CTC-drafter and
 * Medusa), so every tree node at depth d draws from the same list.
 */
public record DepthLists(int[][] tokens, float[][] logProbs) {
    /** No proposals: the step verifies only its root (a plain step). */
    public static final DepthLists EMPTY = new DepthLists(new int[0][], new float[0][]);

    public DepthLists {
        if (tokens.length != logProbs.length) {
            throw new IllegalArgumentException("tokens and log-probabilities differ in depth");
        }
    }

    public void write(java.io.DataOutputStream out) throws java.io.IOException {
        out.writeInt(tokens.length);
        out.writeInt(width());
        for (int d = 0; d < tokens.length; d++) {
            for (int k = 0; k < width(); k++) {
                out.writeInt(tokens[d][k]);
                out.writeFloat(logProbs[d][k]);
            }
        }
    }

    public static DepthLists read(java.io.DataInputStream in) throws java.io.IOException {
        int depth = in.readInt();
        int width = in.readInt();
        int[][] t = new int[depth][width];
        float[][] lp = new float[depth][width];
        for (int d = 0; d < depth; d++) {
            for (int k = 0; k < width; k++) {
                t[d][k] = in.readInt();
                lp[d][k] = in.readFloat();
            }
        }
        return new DepthLists(t, lp);
    }

    public int depth() {
        return tokens.length;
    }

    public int width() {
        return tokens.length == 0 ? 0 : tokens[0].length;
    }
}

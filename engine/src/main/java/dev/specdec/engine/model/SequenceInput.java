package dev.specdec.engine.model;

/**
 * New tokens of one sequence for a forward call.
 *
 * @param cache     the sequence's cache; the new tokens attend to all of its {@code length()} rows
 *                  and their keys/values are appended after them
 * @param tokens    new token ids, one row each
 * @param positions absolute rotary position of each new token (a token tree repeats positions)
 * @param treeMask  {@code treeMask[i][j]}: new token i may attend to new token j; null means causal.
 *                  Every token must attend to itself.
 */
public record SequenceInput(KvCache cache, int[] tokens, int[] positions, boolean[][] treeMask) {

    public SequenceInput {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a forward call needs at least one new token per sequence");
        }
        if (positions.length != tokens.length) {
            throw new IllegalArgumentException("positions and tokens differ in length");
        }
        if (treeMask != null) {
            if (treeMask.length != tokens.length) {
                throw new IllegalArgumentException("tree mask rows differ from the token count");
            }
            for (int i = 0; i < treeMask.length; i++) {
                if (treeMask[i].length != tokens.length || !treeMask[i][i]) {
                    throw new IllegalArgumentException("tree mask row " + i + " is malformed (must be square, self-attending)");
                }
            }
        }
    }

    /** Tokens continuing the cache causally at positions {@code cache.length() ...}. */
    public static SequenceInput causal(KvCache cache, int... tokens) {
        int[] pos = new int[tokens.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = cache.length() + i;
        }
        return new SequenceInput(cache, tokens, pos, null);
    }

    public boolean attends(int i, int j) {
        return treeMask == null ? j <= i : treeMask[i][j];
    }
}

package dev.specdec.engine.speculative;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

/** Top-k of log-softmaxed logits per row, moved to Java arrays in two transfers. */
final class TopK {
    final int[][] ids;       // [rows][k]
    final float[][] logProbs;

    private TopK(int[][] ids, float[][] logProbs) {
        this.ids = ids;
        this.logProbs = logProbs;
    }

    /** {@code logits [rows, V]} (or [.., V] flattened to rows). */
    static TopK of(NDArray logits, int k) {
        long v = logits.getShape().get(logits.getShape().dimension() - 1);
        NDArray flat = logits.reshape(-1, v);
        int rows = (int) flat.getShape().get(0);
        NDList top = flat.logSoftmax(1).topK(k, 1, true, true);
        float[] values = top.get(0).toFloatArray();
        long[] indices = top.get(1).toLongArray();
        int[][] ids = new int[rows][k];
        float[][] lp = new float[rows][k];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < k; j++) {
                ids[r][j] = (int) indices[r * k + j];
                lp[r][j] = values[r * k + j];
            }
        }
        return new TopK(ids, lp);
    }
}

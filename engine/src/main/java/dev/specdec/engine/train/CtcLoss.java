package dev.specdec.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Connectionist temporal classification loss, differentiable through DJL autograd (DJL has none).
 *
 * <p>The forward (alpha) recursion runs in log space over the extended label sequence
 * {@code [blank, l1, blank, l2, ..., lL, blank]}: a state may stay, advance by one, or skip a blank
 * between two different labels. Impossible alignments (more labels plus required blanks than frames)
 * give a loss of at least {@link #IMPOSSIBLE}: log-space "minus infinity" is a large finite negative
 * number here, so no NaN ever reaches a gradient; callers drop such cases (as torch's
 * {@code zero_infinity}).
 */
public final class CtcLoss {
    /** Losses at or above this are impossible alignments (the true value is +infinity). */
    public static final float IMPOSSIBLE = 1e29f;
    private static final float NEG = -1e30f;

    private CtcLoss() {
    }

    /** Extended label sequence (blanks around and between labels). */
    static int[] extend(int[] labels, int blank) {
        int[] ext = new int[2 * labels.length + 1];
        java.util.Arrays.fill(ext, blank);
        for (int i = 0; i < labels.length; i++) {
            ext[2 * i + 1] = labels[i];
        }
        return ext;
    }

    /**
     * Negative log-likelihood per sequence from per-frame emissions: {@code emissions [N, T, S]} holds
     * log p(ext_n[s] | frame t) for each sequence's extended labels {@code ext[n]} (all of length S).
     */
    public static NDArray nllFromEmissions(NDArray emissions, int[][] ext, int blank) {
        NDManager m = emissions.getManager();
        int n = ext.length;
        int s = ext[0].length;
        long frames = emissions.getShape().get(1);
        float[] init = new float[n * s];
        float[] skip = new float[n * s];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < s; j++) {
                init[i * s + j] = j < 2 ? 0f : NEG;
                boolean canSkip = j >= 2 && ext[i][j] != blank && ext[i][j] != ext[i][j - 2];
                skip[i * s + j] = canSkip ? 0f : NEG;
            }
        }
        NDArray initMask = m.create(init, new Shape(n, s));
        NDArray skipMask = m.create(skip, new Shape(n, s));
        NDArray negCol = m.full(new Shape(n, 1), NEG, DataType.FLOAT32);
        NDArray negCols2 = m.full(new Shape(n, 2), NEG, DataType.FLOAT32);
        NDArray alpha = emissions.get(":, 0, :").add(initMask);                     // [N, S]
        for (long t = 1; t < frames; t++) {
            NDArray stay = alpha;
            NDArray step = negCol.concat(alpha.get(":, 0:" + (s - 1)), 1);
            NDArray jump = negCols2.concat(alpha.get(":, 0:" + (s - 2)), 1).add(skipMask);
            alpha = logSumExp(new NDList(stay, step, jump)).add(emissions.get(":, " + t + ", :"));
        }
        NDArray end = logSumExp(new NDList(alpha.get(":, " + (s - 1)), alpha.get(":, " + (s - 2))));
        return end.neg();
    }

    /** Element-wise log(sum(exp(x_i))) of same-shaped tensors, stable and NaN-free for "minus infinity". */
    static NDArray logSumExp(NDList xs) {
        NDArray stacked = ai.djl.ndarray.NDArrays.stack(xs, 0);
        NDArray max = stacked.max(new int[] {0}, true).stopGradient();
        NDArray sum = stacked.sub(max).exp().sum(new int[] {0});
        return sum.log().add(max.squeeze(0));
    }

    /**
     * Negative log-likelihood of {@code targets[n]} (all of one length) under {@code logits [N, T, C]}
     * (pre-softmax), for tests and any caller with full logits.
     */
    public static NDArray nll(NDArray logits, int[][] targets, int blank) {
        NDArray logp = logits.logSoftmax(-1);
        int n = targets.length;
        long frames = logits.getShape().get(1);
        long classes = logits.getShape().get(2);
        int[][] ext = new int[n][];
        int s = 2 * targets[0].length + 1;
        long[] idx = new long[(int) (n * frames * s)];
        for (int i = 0; i < n; i++) {
            if (targets[i].length != targets[0].length) {
                throw new IllegalArgumentException("all targets of a batch must have one length");
            }
            ext[i] = extend(targets[i], blank);
            for (int t = 0; t < frames; t++) {
                for (int j = 0; j < s; j++) {
                    idx[(int) ((i * frames + t) * s + j)] = (i * frames + t) * classes + ext[i][j];
                }
            }
        }
        NDArray emissions = logp.reshape(-1).take(logits.getManager().create(idx)).reshape(n, frames, s);
        return nllFromEmissions(emissions, ext, blank);
    }
}

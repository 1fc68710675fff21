package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.List;

/**
 * Everything the attention of every layer shares during one forward call over a batch of sequences:
 * rotary tables for the new tokens, the additive attention mask over [cached rows + new rows], and
 * where in the {@link KvCachePool} the new rows go and the batch's rows are read from.
 *
 * <p>New tokens are padded to the longest sequence's count {@code T}. A pad row is written after the
 * real rows of its sequence (beyond its valid length, so it is never read) and attends only to itself.
 */
final class AttentionBatch {
    final int batch;          // B
    final int steps;          // T (new tokens per sequence, padded)
    final int keyLength;      // Lk = max over the batch of (cached rows + T)
    final int firstSlot;      // the batch reads slots [firstSlot, firstSlot + B) when contiguous
    final NDArray slotGather; // [B] slot ids when the batch is not a contiguous slot range, else null
    private final NDIndex gatherIndex;
    final NDArray cos;        // [B, T, heads + 2 kvHeads, headDim]: rotary cos for q and k heads, 1 for v heads
    final NDArray sin;        // [B, T, heads + 2 kvHeads, headDim]: rotary sin for q and k heads, 0 for v heads
    final NDArray mask;       // [B, 1, group * T, Lk], 0 or -inf
    final boolean masked;     // false when every new token may see every key (the add is skipped)
    final NDIndex write;      // (slot[B*T], :, row[B*T], :) into a layer's [slots, 2 kvHeads, capacity, headDim]
    final int[] realSteps;    // T_b per sequence
    private final int kvHeads;
    private final int headDim;

    AttentionBatch(NDManager tmp, List<SequenceInput> seqs, RopeSpec rope, int heads, int kvHeads, int headDim,
                   int slidingWindow, KvCachePool pool) {
        this.batch = seqs.size();
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        int group = heads / kvHeads;
        int t = 0;
        int maxRows = 0;
        realSteps = new int[batch];
        for (int b = 0; b < batch; b++) {
            SequenceInput s = seqs.get(b);
            if (s.cache().pool() != pool) {
                throw new IllegalArgumentException("all sequences of a batch must use this model's cache pool");
            }
            s.cache().checkOpen();
            realSteps[b] = s.tokens().length;
            t = Math.max(t, s.tokens().length);
        }
        this.steps = t;
        for (SequenceInput s : seqs) {
            maxRows = Math.max(maxRows, s.cache().length() + t);
        }
        this.keyLength = maxRows;
        pool.ensureCapacity(maxRows);

        boolean contiguous = true;
        int first = seqs.get(0).cache().slot();
        for (int b = 0; b < batch; b++) {
            contiguous &= seqs.get(b).cache().slot() == first + b;
        }
        this.firstSlot = contiguous ? first : -1;
        if (contiguous) {
            slotGather = null;
        } else {
            long[] slots = new long[batch];
            for (int b = 0; b < batch; b++) {
                slots[b] = seqs.get(b).cache().slot();
            }
            slotGather = tmp.create(slots);
        }
        gatherIndex = slotGather == null ? null : new NDIndex("{}", slotGather);

        float[] cosData = new float[batch * t * headDim];
        float[] sinData = new float[batch * t * headDim];
        long[] slotIdx = new long[batch * t];
        long[] rowIdx = new long[batch * t];
        float[] maskData = new float[batch * group * t * maxRows];
        java.util.Arrays.fill(maskData, Float.NEGATIVE_INFINITY);
        for (int b = 0; b < batch; b++) {
            SequenceInput s = seqs.get(b);
            int cached = s.cache().length();
            int tb = s.tokens().length;
            for (int i = 0; i < t; i++) {
                int row = b * t + i;
                int pos = i < tb ? s.positions()[i] : s.positions()[tb - 1];
                rope.cosSin(pos, cosData, sinData, row * headDim);
                slotIdx[row] = s.cache().slot();
                rowIdx[row] = cached + i;
                for (int gi = 0; gi < group; gi++) {
                    int base = ((b * group + gi) * t + i) * maxRows;
                    if (i >= tb) {
                        maskData[base + cached + i] = 0f;   // pad row: itself only
                        continue;
                    }
                    int from = slidingWindow > 0 ? Math.max(0, pos - slidingWindow + 1) : 0;
                    for (int j = from; j < cached; j++) {
                        maskData[base + j] = 0f;
                    }
                    for (int j = 0; j < tb; j++) {
                        if (s.attends(i, j) && (slidingWindow <= 0 || pos - s.positions()[j] < slidingWindow)) {
                            maskData[base + cached + j] = 0f;
                        }
                    }
                }
            }
        }
        // Rotary tables for the whole q|k|v projection (identity on v), so one rotation covers q and k
        // and leaves keys and values adjacent for a single cache write.
        NDArray c = tmp.create(cosData, new Shape(batch, t, 1, headDim));
        NDArray s = tmp.create(sinData, new Shape(batch, t, 1, headDim));
        long qk = heads + kvHeads;
        cos = Ops.cat(2, Ops.broadcast(c, batch, t, qk, headDim), tmp.ones(new Shape(batch, t, kvHeads, headDim)));
        sin = Ops.cat(2, Ops.broadcast(s, batch, t, qk, headDim), tmp.zeros(new Shape(batch, t, kvHeads, headDim)));
        boolean any = false;
        for (float v : maskData) {
            if (v != 0f) {
                any = true;
                break;
            }
        }
        masked = any;
        mask = masked ? tmp.create(maskData, new Shape(batch, 1, (long) group * t, maxRows)) : null;
        NDArray slots = tmp.create(slotIdx);
        NDArray rows = tmp.create(rowIdx);
        write = new NDIndex("{}, :, {}, :", slots, rows);
    }

    /**
     * This batch's keys and values of one layer ({@code layerKv [slots, 2 kvHeads, capacity, headDim]}):
     * two [B, kvHeads, Lk, headDim] tensors, views when the batch's slots are contiguous.
     */
    NDArray[] read(NDArray layerKv) {
        if (slotGather == null) {
            long end = firstSlot + batch;
            return new NDArray[] {
                Ops.sliceAll(layerKv, new long[] {firstSlot, 0, 0, 0}, new long[] {end, kvHeads, keyLength, headDim}),
                Ops.sliceAll(layerKv, new long[] {firstSlot, kvHeads, 0, 0}, new long[] {end, 2L * kvHeads, keyLength, headDim})};
        }
        NDArray rows = Ops.indexGet(Ops.slice(layerKv, 2, 0, keyLength), gatherIndex);
        ai.djl.ndarray.NDList kv = Ops.split(rows, 1, kvHeads, kvHeads);
        return new NDArray[] {kv.get(0), kv.get(1)};
    }
}

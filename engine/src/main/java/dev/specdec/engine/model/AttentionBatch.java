package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;


/**
 * The eager forward's tensors for one {@link BatchLayout}: rotary tables widened to the whole
 * q|k|v projection (identity on v), the attention mask, the cache-write index, and this batch's
 * keys and values of a layer (views when its slots are contiguous).
 */
final class AttentionBatch {
    final int batch;          // B
    final int steps;          // T (new tokens per sequence, padded)
    final int[] realSteps;    // T_b per sequence
    final NDArray cos;        // [B, T, heads + 2 kvHeads, headDim]: rotary cos for q and k heads, 1 for v heads
    final NDArray sin;        // [B, T, heads + 2 kvHeads, headDim]: rotary sin for q and k heads, 0 for v heads
    final NDArray mask;       // [B, 1, group * T, Lk], 0 or -inf
    final boolean masked;     // false when every new token may see every key (the add is skipped)
    final NDIndex write;      // (slot[B*T], :, row[B*T], :) into a layer's [slots, 2 kvHeads, capacity, headDim]
    final NDArray tokens;     // [B, T] token ids
    private final int keyLength;
    private final int firstSlot;
    private final NDIndex gatherIndex;
    private final int kvHeads;
    private final int headDim;

    AttentionBatch(NDManager tmp, BatchLayout l, int heads, int kvHeads, int headDim) {
        this.batch = l.batch;
        this.steps = l.steps;
        this.realSteps = l.realSteps;
        this.keyLength = l.keyLength;
        this.firstSlot = l.firstSlot;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        int group = heads / kvHeads;
        long b = batch;
        long t = steps;
        gatherIndex = firstSlot >= 0 ? null : new NDIndex("{}", tmp.create(l.slots));
        // Rotary tables for the whole q|k|v projection (identity on v), so one rotation covers q and k
        // and leaves keys and values adjacent for a single cache write.
        NDArray c = tmp.create(l.cos, new Shape(b, t, 1, headDim));
        NDArray s = tmp.create(l.sin, new Shape(b, t, 1, headDim));
        long qk = heads + kvHeads;
        cos = Ops.cat(2, Ops.broadcast(c, b, t, qk, headDim), tmp.ones(new Shape(b, t, kvHeads, headDim)));
        sin = Ops.cat(2, Ops.broadcast(s, b, t, qk, headDim), tmp.zeros(new Shape(b, t, kvHeads, headDim)));
        masked = l.mask != null;
        mask = masked ? tmp.create(l.mask, new Shape(b, 1, (long) group * t, keyLength)) : null;
        write = new NDIndex("{}, :, {}, :", tmp.create(l.writeSlots), tmp.create(l.writeRows));
        tokens = tmp.create(l.tokens, new Shape(b, t));
    }

    /**
     * This batch's keys and values of one layer ({@code layerKv [slots, 2 kvHeads, capacity, headDim]}):
     * two [B, kvHeads, Lk, headDim] tensors, views when the batch's slots are contiguous.
     */
    NDArray[] read(NDArray layerKv) {
        if (gatherIndex == null) {
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

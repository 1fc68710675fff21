package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * One sequence's key/value cache: a slot of a {@link KvCachePool} and the number of rows that hold
 * accepted tokens. A forward call appends its new tokens' rows; {@link #truncate} drops rows from
 * the end; {@link #keepAppended} keeps a chosen subset of the rows appended since a given length
 * (the accepted path of a verified token tree) and moves them to be contiguous.
 */
public final class KvCache implements AutoCloseable {
    private final KvCachePool pool;
    int slot;
    private int length;

    KvCache(KvCachePool pool, int slot) {
        this.pool = pool;
        this.slot = slot;
    }

    public KvCachePool pool() {
        return pool;
    }

    public int slot() {
        return slot;
    }

    /** Number of valid rows (tokens whose keys and values are cached). */
    public int length() {
        return length;
    }

    public boolean isOpen() {
        return slot >= 0;
    }

    void setLength(int length) {
        this.length = length;
    }

    /** Drops rows from the end so that {@code newLength} rows remain. */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate " + length + " rows to " + newLength);
        }
        length = newLength;
    }

    /**
     * Keeps rows {@code base + offsets[i]} (ascending offsets, relative to {@code base}) as rows
     * {@code base + i}, and drops every other row after {@code base}. This commits the accepted path of
     * a token tree whose rows were appended at {@code base}.
     */
    public void keepAppended(int base, int[] offsets) {
        checkOpen();
        if (base < 0 || base > length) {
            throw new IllegalArgumentException("base " + base + " outside cache of " + length + " rows");
        }
        boolean identity = true;
        for (int i = 0; i < offsets.length; i++) {
            if (base + offsets[i] >= length || (i > 0 && offsets[i] <= offsets[i - 1])) {
                throw new IllegalArgumentException("rows to keep must be ascending and inside the cache");
            }
            identity &= offsets[i] == i;
        }
        if (!identity) {
            NDArray storage = pool.storage();
            NDManager m = storage.getManager();
            long[] src = new long[offsets.length];
            long[] dst = new long[offsets.length];
            for (int i = 0; i < offsets.length; i++) {
                src[i] = base + offsets[i];
                dst[i] = base + i;
            }
            try (NDArray srcIdx = m.create(src);
                 NDArray dstIdx = m.create(dst);
                 NDArray slotIdx = m.create(new long[] {slot})) {
                // Advanced indices on the slot and row axes, slices elsewhere: rows [n, layers, 2 kvHeads, headDim].
                NDIndex from = new NDIndex(":, {}, :, {}, :", slotIdx, srcIdx);
                NDIndex to = new NDIndex(":, {}, :, {}, :", slotIdx, dstIdx);
                try (NDArray rows = storage.get(from)) {
                    storage.set(to, rows);
                }
            }
        }
        length = base + offsets.length;
    }

    void checkOpen() {
        if (slot < 0) {
            throw new IllegalStateException("KV cache was released");
        }
    }

    /** Copies this cache's valid rows to host memory: [layers, 2 kvHeads, length, headDim] floats. */
    public float[] exportRows() {
        checkOpen();
        if (length == 0) {
            return new float[0];
        }
        NDIndex idx = new NDIndex().addAllDim().addIndices(slot).addAllDim().addSliceDim(0, length).addAllDim();
        try (NDArray rows = pool.storage().get(idx)) {
            return rows.toFloatArray();
        }
    }

    /** Replaces this cache's rows with ones from {@link #exportRows()} (same pool geometry). */
    public void importRows(float[] data, int rows) {
        checkOpen();
        pool.ensureCapacity(rows);
        if (rows > 0) {
            NDArray storage = pool.storage();
            Shape shape = new Shape(pool.layers(), 2L * pool.kvHeads(), rows, pool.headDim());
            if (shape.size() != data.length) {
                throw new IllegalArgumentException("KV rows do not match the pool geometry");
            }
            NDIndex idx = new NDIndex().addAllDim().addIndices(slot).addAllDim().addSliceDim(0, rows).addAllDim();
            try (NDArray values = storage.getManager().create(data, shape).toType(DataType.FLOAT32, false)) {
                storage.set(idx, values);
            }
        }
        length = rows;
    }

    /** Returns the slot to the pool; the cache cannot be used afterwards. */
    @Override
    public void close() {
        if (slot >= 0) {
            pool.release(this);
        }
        length = 0;
    }
}

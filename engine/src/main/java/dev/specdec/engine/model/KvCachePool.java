package dev.specdec.engine.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * Key/value memory for many sequences in one tensor per model, so that a batch of sequences is a
 * plain slice and one forward call serves all of them without copying any cache.
 *
 * <p>Layout: {@code storage [layers, slots, 2 * kvHeads (keys, then values), capacity, headDim]}. Rows
 * of a slot are token positions; each {@link KvCache} owns one slot. Keys and values of a layer sit
 * side by side so one indexed write stores both for every new token of a batch.
 *
 * <p>The slot-contiguity rule, kept here and nowhere else: live caches always occupy slots
 * {@code [0, live)}. Releasing a cache moves the highest live slot into the hole, so any batch of
 * live caches sorted by slot is a contiguous range and a forward call reads it as one slice. Moving a
 * cache copies its rows, so callers that release several caches at once use {@link #releaseAll},
 * which releases the highest slot first: caches released together never move each other.
 *
 * <p>Both the number of slots and the row capacity grow on demand (reallocate and copy, amortised
 * by doubling).
 */
public final class KvCachePool implements AutoCloseable {
    private final NDManager manager;
    private final int layers;
    private final int kvHeads;
    private final int headDim;
    private final int maxCapacity;
    private NDArray storage;            // [layers, slots, 2 * kvHeads, capacity, headDim]
    private NDArray[] layerViews;       // storage[l]: [slots, 2 * kvHeads, capacity, headDim]
    private int slots;
    private int capacity;
    private final List<KvCache> live = new ArrayList<>();

    public KvCachePool(NDManager parent, Device device, int layers, int kvHeads, int headDim,
                       int initialSlots, int initialCapacity, int maxCapacity) {
        this.manager = parent.newSubManager(device);
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.maxCapacity = maxCapacity;
        this.slots = Math.max(1, initialSlots);
        this.capacity = Math.max(16, Math.min(initialCapacity, maxCapacity));
        allocate(slots, capacity, null);
    }

    private void allocate(int newSlots, int newCapacity, NDArray old) {
        NDArray fresh = manager.zeros(new Shape(layers, newSlots, 2L * kvHeads, newCapacity, headDim), DataType.FLOAT32);
        if (old != null) {
            long oldSlots = old.getShape().get(1);
            long oldCap = old.getShape().get(3);
            NDIndex region = new NDIndex().addAllDim().addSliceDim(0, oldSlots).addAllDim()
                    .addSliceDim(0, oldCap).addAllDim();
            fresh.set(region, old);
            old.close();
        }
        if (layerViews != null) {
            for (NDArray v : layerViews) {
                v.close();
            }
        }
        storage = fresh;
        layerViews = new NDArray[layers];
        for (int l = 0; l < layers; l++) {
            layerViews[l] = storage.get(new NDIndex(l));
        }
        // Growth can happen inside a forward call's NDScope: the pool's tensors must outlive it.
        NDScope.unregister(storage);
        NDScope.unregister(layerViews);
        slots = newSlots;
        capacity = newCapacity;
    }

    /** A new empty cache in the next free slot. */
    public synchronized KvCache allocate() {
        if (live.size() == slots) {
            allocate(slots * 2, capacity, storage);
        }
        KvCache cache = new KvCache(this, live.size());
        live.add(cache);
        return cache;
    }

    /**
     * Releases caches (of this pool or others) highest slot first, so that none of them is moved to
     * fill the hole another leaves; caches already released are skipped.
     */
    public static void releaseAll(java.util.Collection<KvCache> caches) {
        List<KvCache> open = new ArrayList<>();
        for (KvCache c : caches) {
            if (c != null && c.isOpen()) {
                open.add(c);
            }
        }
        open.sort(java.util.Comparator.comparingInt(KvCache::slot).reversed());
        open.forEach(KvCache::close);
    }

    /** Frees a cache's slot, moving the highest live slot into it so live slots stay contiguous. */
    synchronized void release(KvCache cache) {
        int slot = cache.slot;
        int last = live.size() - 1;
        if (slot < 0 || live.get(slot) != cache) {
            throw new IllegalStateException("cache does not belong to this pool");
        }
        if (slot != last) {
            KvCache moved = live.get(last);
            if (moved.length() > 0) {
                NDIndex dst = new NDIndex().addAllDim().addIndices(slot).addAllDim().addSliceDim(0, moved.length());
                NDIndex src = new NDIndex().addAllDim().addIndices(last).addAllDim().addSliceDim(0, moved.length());
                try (NDArray rows = storage.get(src)) {
                    storage.set(dst, rows);
                }
            }
            moved.slot = slot;
            live.set(slot, moved);
        }
        live.remove(last);
        cache.slot = -1;
    }

    /** Grows the row capacity so that every slot can hold {@code rows} rows. */
    public synchronized void ensureCapacity(int rows) {
        if (rows <= capacity) {
            return;
        }
        if (rows > maxCapacity) {
            throw new IllegalArgumentException("sequence of " + rows + " rows exceeds the cache capacity of "
                    + maxCapacity + " tokens");
        }
        int next = capacity;
        while (next < rows) {
            next *= 2;
        }
        allocate(slots, Math.min(next, maxCapacity), storage);
    }

    /** Keys and values of one layer: [slots, 2 * kvHeads, capacity, headDim]. */
    NDArray layer(int layer) {
        return layerViews[layer];
    }

    NDArray storage() {
        return storage;
    }

    public int capacity() {
        return capacity;
    }

    public int slots() {
        return slots;
    }

    public int liveCount() {
        return live.size();
    }

    public int layers() {
        return layers;
    }

    public int kvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim;
    }

    public int maxCapacity() {
        return maxCapacity;
    }

    /** Bytes held by the pool's tensor (all slots, full capacity). */
    public long allocatedBytes() {
        return storage.getShape().size() * 4L;
    }

    /** Bytes of the rows in use by live caches. */
    public long usedBytes() {
        long rows = 0;
        for (KvCache c : live) {
            rows += c.length();
        }
        return rows * 2L * layers * kvHeads * headDim * 4L;
    }

    @Override
    public synchronized void close() {
        for (KvCache c : live) {
            c.slot = -1;
        }
        live.clear();
        manager.close();
    }
}

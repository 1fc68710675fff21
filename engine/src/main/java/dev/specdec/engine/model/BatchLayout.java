package dev.specdec.engine.model;

import java.util.Arrays;
import java.util.List;

/**
 * Where one forward call over a batch of sequences reads and writes, as host arrays both forward
 * paths (eager and compiled) turn into tensors: the new tokens padded to {@code T} per sequence,
 * their rotary tables, the additive attention mask over [cached rows + new rows], the cache rows
 * the new keys and values go to, and the cache slots the batch reads.
 *
 * <p>A pad row is written after the real rows of its sequence (beyond its valid length, so it is
 * never read) and attends only to itself.
 */
final class BatchLayout {
    final int batch;          // B
    final int steps;          // T (new tokens per sequence, padded)
    final int keyLength;      // Lk = max over the batch of (cached rows + T)
    final int firstSlot;      // the batch reads slots [firstSlot, firstSlot + B) when contiguous, else -1
    final long[] slots;       // [B] slot of each sequence
    final long[] tokens;      // [B * T] token ids (pads repeat the last real token)
    final float[] cos;        // [B * T * headDim] rotary cos of each new token
    final float[] sin;        // [B * T * headDim]
    final float[] mask;       // [B * group * T * Lk], 0 or -inf; null when every new token may see every key
    final long[] writeSlots;  // [B * T] slot of each new row
    final long[] writeRows;   // [B * T] cache row of each new row
    final int[] realSteps;    // T_b per sequence

    BatchLayout(List<SequenceInput> seqs, RopeSpec rope, int heads, int kvHeads, int headDim, int slidingWindow,
                KvCachePool pool, int vocab) {
        batch = seqs.size();
        realSteps = new int[batch];
        int t = 0;
        for (int b = 0; b < batch; b++) {
            SequenceInput s = seqs.get(b);
            if (s.cache().pool() != pool) {
                throw new IllegalArgumentException("all sequences of a batch must use this model's cache pool");
            }
            s.cache().checkOpen();
            realSteps[b] = s.tokens().length;
            t = Math.max(t, s.tokens().length);
        }
        steps = t;
        int maxRows = 0;
        for (SequenceInput s : seqs) {
            maxRows = Math.max(maxRows, s.cache().length() + t);
        }
        keyLength = maxRows;
        pool.ensureCapacity(maxRows);
        slots = new long[batch];
        boolean contiguous = true;
        for (int b = 0; b < batch; b++) {
            slots[b] = seqs.get(b).cache().slot();
            contiguous &= slots[b] == slots[0] + b;
        }
        firstSlot = contiguous ? (int) slots[0] : -1;
        tokens = new long[batch * t];
        cos = new float[batch * t * headDim];
        sin = new float[batch * t * headDim];
        writeSlots = new long[batch * t];
        writeRows = new long[batch * t];
        int group = heads / kvHeads;
        float[] m = new float[batch * group * t * maxRows];
        Arrays.fill(m, Float.NEGATIVE_INFINITY);
        for (int b = 0; b < batch; b++) {
            SequenceInput s = seqs.get(b);
            int cached = s.cache().length();
            int tb = s.tokens().length;
            for (int i = 0; i < t; i++) {
                int row = b * t + i;
                int id = s.tokens()[Math.min(i, tb - 1)];
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + vocab);
                }
                tokens[row] = id;
                int pos = i < tb ? s.positions()[i] : s.positions()[tb - 1];
                rope.cosSin(pos, cos, sin, row * headDim);
                writeSlots[row] = s.cache().slot();
                writeRows[row] = cached + i;
                for (int gi = 0; gi < group; gi++) {
                    int base = ((b * group + gi) * t + i) * maxRows;
                    if (i >= tb) {
                        m[base + cached + i] = 0f;   // pad row: itself only
                        continue;
                    }
                    int from = slidingWindow > 0 ? Math.max(0, pos - slidingWindow + 1) : 0;
                    for (int j = from; j < cached; j++) {
                        m[base + j] = 0f;
                    }
                    for (int j = 0; j < tb; j++) {
                        if (s.attends(i, j) && (slidingWindow <= 0 || pos - s.positions()[j] < slidingWindow)) {
                            m[base + cached + j] = 0f;
                        }
                    }
                }
            }
        }
        boolean any = false;
        for (float v : m) {
            if (v != 0f) {
                any = true;
                break;
            }
        }
        mask = any ? m : null;
    }

    /** Flat rows ({@code b * T + T_b - 1}) of each sequence's last real new token. */
    long[] lastRows() {
        long[] rows = new long[batch];
        for (int b = 0; b < batch; b++) {
            rows[b] = (long) b * steps + realSteps[b] - 1;
        }
        return rows;
    }

    /** Advances every sequence's cache by its real new rows (after the forward wrote them). */
    static void commitRows(List<SequenceInput> seqs) {
        for (SequenceInput s : seqs) {
            s.cache().setLength(s.cache().length() + s.tokens().length);
        }
    }
}

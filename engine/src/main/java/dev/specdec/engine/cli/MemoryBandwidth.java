package dev.specdec.engine.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.specdec.engine.TorchThreads;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Memory read bandwidth of this machine, measured from this JVM with a streaming read over an
 * array far larger than the caches (1 GiB), on a given number of threads, two ways: a Java loop
 * over a {@code long[]} (four independent sums, so the loop is limited by memory, not by one chain
 * of additions) and PyTorch's {@code sum} over a float tensor (vectorised native code, the same
 * kind of code that reads the weights in a forward pass). The faster of the two is the bandwidth a
 * decoder could at best read its weights with: the floor of decoding.
 */
final class MemoryBandwidth {
    private static final int BYTES = 1 << 30;

    /** @param javaGbPerS Java loop, {@code nativeGbPerS} PyTorch sum; best of a few passes each */
    record Result(int threads, double javaGbPerS, double nativeGbPerS) {
        double best() {
            return Math.max(javaGbPerS, nativeGbPerS);
        }
    }

    private MemoryBandwidth() {
    }

    static Result measure(int threads) throws Exception {
        return new Result(threads, javaLoop(threads), nativeSum(threads));
    }

    private static double javaLoop(int threads) throws Exception {
        long[] data = new long[BYTES / 8];
        for (int i = 0; i < data.length; i++) {
            data[i] = i;
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            double best = 0;
            for (int pass = 0; pass < 5; pass++) {
                long t0 = System.nanoTime();
                List<Future<Long>> parts = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int from = (int) ((long) data.length * t / threads) & ~3;
                    int to = t == threads - 1 ? data.length : (int) ((long) data.length * (t + 1) / threads) & ~3;
                    parts.add(pool.submit(() -> sum(data, from, to)));
                }
                long check = 0;
                for (Future<Long> f : parts) {
                    check += f.get();
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (check != -1) {    // keeps the sums live
                    best = Math.max(best, BYTES / seconds / 1e9);
                }
            }
            return best;
        } finally {
            pool.shutdown();
        }
    }

    private static long sum(long[] a, int from, int to) {
        long s0 = 0;
        long s1 = 0;
        long s2 = 0;
        long s3 = 0;
        for (int i = from; i < to; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        return s0 + s1 + s2 + s3;
    }

    private static double nativeSum(int threads) {
        int before = TorchThreads.current();
        TorchThreads.use(threads);
        try (NDManager m = NDManager.newBaseManager(); NDArray x = m.ones(new Shape(BYTES / 4))) {
            double best = 0;
            for (int pass = 0; pass < 5; pass++) {
                long t0 = System.nanoTime();
                try (NDArray s = x.sum()) {
                    s.getFloat();
                }
                best = Math.max(best, BYTES / ((System.nanoTime() - t0) / 1e9) / 1e9);
            }
            return best;
        } finally {
            TorchThreads.use(before);
        }
    }
}

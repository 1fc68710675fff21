package dev.specdec.engine.serve;

import java.time.Instant;

/** Wall-clock time in epoch microseconds: timings that must survive a restore cannot use nanoTime. */
public final class WallClock {
    private WallClock() {
    }

    public static long micros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }
}

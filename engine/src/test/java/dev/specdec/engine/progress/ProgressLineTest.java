package dev.specdec.engine.progress;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ProgressLineTest {
    private static final long SECOND = 1_000_000_000L;

    private final AtomicLong now = new AtomicLong(100 * SECOND);
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private final ProgressLine line = new ProgressLine("train-drafter", "step", 0, 400,
            new PrintStream(buf, true, StandardCharsets.UTF_8), 5 * SECOND, now::get);

    private String printed() {
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aLineSaysWhereTheWorkStandsAndWhenItEnds() {
        now.addAndGet(60 * SECOND);
        line.update(120);
        assertEquals("train-drafter: step 120/400 (30%), 2.0 steps/s, ETA 2m20s\n", printed());
    }

    @Test
    void linesComeAtMostOncePerIntervalAndTheLastOneAlways() {
        for (int step = 1; step <= 400; step++) {
            now.addAndGet(SECOND / 10);          // 10 steps/s: 40 s in all, a line every 5 s
            line.update(step, "loss 1.25");
        }
        line.update(400);                        // a repeated final update prints nothing more
        String[] lines = printed().split("\n");
        assertEquals(8, lines.length, printed());
        assertEquals("train-drafter: step 50/400 (12%), 10.0 steps/s, ETA 35s, loss 1.25", lines[0]);
        assertEquals("train-drafter: step 400/400 (100%), 10.0 steps/s, done in 40s, loss 1.25", lines[7]);
    }

    @Test
    void beforeTheFirstUnitTheEstimateIsUnknown() {
        now.addAndGet(6 * SECOND);
        line.update(0);
        assertEquals("train-drafter: step 0/400 (0%), ? steps/s, ETA ?\n", printed());
    }

    @Test
    void advancingCountsFromWhereTheWorkStood() {
        ProgressLine resumed = new ProgressLine("bench", "prompt", 10, 40,
                new PrintStream(buf, true, StandardCharsets.UTF_8), 5 * SECOND, now::get);
        now.addAndGet(10 * SECOND);
        resumed.advance(5);
        resumed.advance(5);                      // within the interval: no line
        now.addAndGet(5 * SECOND);
        resumed.advance(5);
        assertEquals("bench: prompt 15/40 (37%), 2.0 s/prompt, ETA 50s\n"
                + "bench: prompt 25/40 (62%), 1.0 prompts/s, ETA 15s\n", printed());
    }
}

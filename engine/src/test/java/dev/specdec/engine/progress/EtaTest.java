package dev.specdec.engine.progress;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EtaTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void theEstimateIsTheAverageRateSinceTheStart() {
        Eta eta = new Eta(0, 10 * SECOND);
        // 120 of 400 steps in 60 s: 2 steps/s, 280 steps left.
        assertEquals(2.0, eta.rate(120, 70 * SECOND), 1e-9);
        assertEquals(140.0, eta.secondsLeft(120, 400, 70 * SECOND), 1e-9);
    }

    @Test
    void aResumedRunCountsOnlyItsOwnUnits() {
        Eta eta = new Eta(300, 0);
        assertEquals(1.0, eta.rate(310, 10 * SECOND), 1e-9);
        assertEquals(90.0, eta.secondsLeft(310, 400, 10 * SECOND), 1e-9);
    }

    @Test
    void nothingDoneYetIsUnknownAndAllDoneIsZero() {
        Eta eta = new Eta(5, 0);
        assertTrue(Double.isNaN(eta.rate(5, 3 * SECOND)));
        assertTrue(Double.isNaN(eta.secondsLeft(5, 10, 3 * SECOND)));
        assertTrue(Double.isNaN(eta.rate(6, 0)), "no time passed: no rate");
        assertEquals(0.0, eta.secondsLeft(10, 10, 3 * SECOND));
    }

    @Test
    void durationsReadAsPeopleWriteThem() {
        assertEquals("0s", Eta.duration(0.2));
        assertEquals("45s", Eta.duration(45));
        assertEquals("1m00s", Eta.duration(59.6));
        assertEquals("2m13s", Eta.duration(133));
        assertEquals("59m59s", Eta.duration(3599));
        assertEquals("1h05m", Eta.duration(3900));
        assertEquals("26h40m", Eta.duration(96_000));
        assertEquals("?", Eta.duration(Double.NaN));
        assertEquals("?", Eta.duration(Double.POSITIVE_INFINITY));
    }

    @Test
    void slowRatesReadAsSecondsPerUnit() {
        assertEquals("2.1 steps/s", Eta.rate(2.1, "step", "steps"));
        assertEquals("8.0 s/step", Eta.rate(0.125, "step", "steps"));
        assertEquals("? steps/s", Eta.rate(Double.NaN, "step", "steps"));
    }
}

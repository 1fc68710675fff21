package dev.specdec.engine;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The intra-op thread count is per calling thread, and threads started later take the last one set. */
class TorchThreadsTest {

    @Test
    void theCountAppliesToTheCallingThreadAndToNewThreads() throws Exception {
        int before = TorchThreads.current();
        try {
            TorchThreads.use(1);
            assertEquals(1, TorchThreads.current());
            AtomicInteger seen = new AtomicInteger();
            Thread t = new Thread(() -> seen.set(TorchThreads.current()));
            t.start();
            t.join();
            assertEquals(1, seen.get(), "a thread started after use(1)");
        } finally {
            TorchThreads.use(before);
        }
        assertEquals(before, TorchThreads.current());
    }

    @Test
    void rejectsImpossibleCounts() {
        assertThrows(IllegalArgumentException.class, () -> TorchThreads.use(0));
        assertThrows(IllegalArgumentException.class, () -> TorchThreads.forSlots(0, 1));
        assertThrows(IllegalArgumentException.class, () -> TorchThreads.forSlots(4, 0));
        assertEquals(1, TorchThreads.forSlots(2, 1));
        assertEquals(5, TorchThreads.forSlots(16, 3));
    }
}

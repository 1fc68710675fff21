package dev.specdec.engine.serve;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An error a result carries names the failure without server paths, backtraces or megabytes. */
class ErrorTextTest {
    @Test
    void pathsBacktracesAndLengthStayOut() {
        String t = ErrorText.of("decoding failed", new IllegalStateException(
                "cannot open /home/serve/models/llama/model.safetensors for step 3\nat c10::Error ... frame 1"));
        assertEquals("decoding failed: IllegalStateException (cannot open <path> for step 3)", t);
        String native0 = ErrorText.of("decoding failed", new RuntimeException("x".repeat(10_000)));
        assertTrue(native0.length() <= ErrorText.MAX, native0);
        assertEquals("prefill failed: OutOfMemoryError", ErrorText.of("prefill failed", new OutOfMemoryError()));
        assertFalse(ErrorText.of("x", new RuntimeException("ratio 1/2 and a/b")).contains("<path>"),
                "a single slash is not a path");
    }
}

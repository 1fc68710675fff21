package dev.specdec.job.gateway;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Chunks are placed by code-point offset: repeats after a job recovery add nothing, overlaps add the rest. */
class StreamedAnswerTest {
    @Test
    void aChunkAddsOnlyTextNotSentYet() {
        assertEquals(" unto", StreamedAnswer.unsent(3, 3, " unto"));
        assertEquals("to", StreamedAnswer.unsent(6, 3, " unto"));
        assertNull(StreamedAnswer.unsent(8, 3, " unto"), "a repeated chunk");
        assertNull(StreamedAnswer.unsent(3, 5, "x"), "a gap: a chunk was lost; the result fills it");
        assertNull(StreamedAnswer.unsent(0, 0, ""), "an empty last chunk");
    }

    @Test
    void offsetsCountCodePointsNotUtf16Units() {
        String text = "a\uD83D\uDE00b";   // a, an emoji (two UTF-16 units, one code point), b
        assertEquals("b", StreamedAnswer.unsent(2, 0, text));
        assertEquals("\uD83D\uDE00b", StreamedAnswer.unsent(1, 0, text));
    }
}

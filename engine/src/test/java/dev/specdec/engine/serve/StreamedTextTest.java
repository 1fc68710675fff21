package dev.specdec.engine.serve;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What streaming may show of a request's text before it is finished. */
class StreamedTextTest {

    @Test
    void holdsBackTheStartOfAStopString() {
        assertEquals("And God said".length(), StreamedText.stableLength("And God said", List.of("\n\n")));
        assertEquals("And God said\n".length(), StreamedText.stableLength("And God said\n", List.of()));
        assertEquals("And God said".length(), StreamedText.stableLength("And God said\n", List.of("\n\n")));
        assertEquals("Let there be ".length(), StreamedText.stableLength("Let there be lig", List.of("light", "x")));
        // The longest pending prefix among all stop strings wins.
        assertEquals(3, StreamedText.stableLength("abcde", List.of("e!", "de!")));
        // A complete stop string never stays in a decoding request's text; nothing to hold for it here.
        assertEquals(5, StreamedText.stableLength("abcde", List.of("zz")));
        assertEquals(0, StreamedText.stableLength("", List.of("a")));
    }

    @Test
    void holdsBackIncompleteCharacters() {
        assertEquals(4, StreamedText.stableLength("fire\uFFFD", List.of()));
        assertEquals(4, StreamedText.stableLength("fire\uFFFD\uFFFD", List.of("\n")));
        String emoji = "ok \uD83D\uDD25";
        assertEquals(emoji.length(), StreamedText.stableLength(emoji, List.of()));
        assertEquals(3, StreamedText.stableLength("ok \uD83D", List.of()), "half a surrogate pair waits");
    }

    @Test
    void deltasOnlyExtend() {
        assertEquals(" God", StreamedText.delta("And", "And God"));
        assertEquals("", StreamedText.delta("And God", "And God"));
        assertEquals("", StreamedText.delta("And Go", "And so"), "a rewrite of shown text adds nothing");
        assertEquals(4, StreamedText.codePoints("a\uD83D\uDD25bc"));
    }
}

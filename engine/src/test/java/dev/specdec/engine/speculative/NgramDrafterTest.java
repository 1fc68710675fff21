package dev.specdec.engine.speculative;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Prompt lookup: the longest n-gram first, its latest earlier occurrence, at most the limit. */
class NgramDrafterTest {
    @Test
    void proposesWhatFollowedTheLatestLongestMatch() {
        //            0  1  2  3  4  5  6  7  8  9 10
        int[] ctx = {5, 6, 7, 8, 1, 6, 7, 9, 2, 6, 7};
        // suffix "6 7": latest earlier occurrence at 5 -> continuation 9 2 6 7
        assertArrayEquals(new int[] {9, 2}, NgramDrafter.continuation(ctx, 3, 1, 2));
        assertArrayEquals(new int[] {9, 2, 6, 7}, NgramDrafter.continuation(ctx, 3, 1, 8));
        // a three-gram "2 6 7" occurs nowhere earlier; "6 7" does; with min 3 there is no proposal
        assertArrayEquals(new int[0], NgramDrafter.continuation(ctx, 3, 3, 8));
        // a longer match wins over a later shorter one: suffix "1 2 3" appears once earlier
        int[] c2 = {1, 2, 3, 4, 3, 5, 1, 2, 3};
        assertArrayEquals(new int[] {4, 3, 5}, NgramDrafter.continuation(c2, 3, 1, 3));
        assertArrayEquals(new int[0], NgramDrafter.continuation(new int[] {4}, 3, 1, 3));
    }
}

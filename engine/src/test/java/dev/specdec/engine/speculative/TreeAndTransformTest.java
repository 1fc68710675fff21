package dev.specdec.engine.speculative;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Deque;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tree building, the CTC transform in both modes, tree masks and acceptance on hand-worked cases. */
class TreeAndTransformTest {
    private static final int R = 5;   // root token

    private static DepthLists lists(int[][] tokens, float[][] lp) {
        return new DepthLists(tokens, lp);
    }

    @Test
    void staticTreeFollowsChoicePaths() {
        StaticTree t = new StaticTree(new int[][] {{0, 0, 0}, {1}, {0}, {0, 1}, {0, 0}, {1, 0}}, "t");
        DepthLists l = lists(new int[][] {{10, 11}, {20, 21}, {30, 31}}, new float[3][2]);
        CandidateTree c = t.build(R, l, 100);
        // Sorted by (length, lexicographic): [0], [1], [0,0], [0,1], [1,0], [0,0,0]
        assertEquals(7, c.size());
        int[] tokens = new int[c.size()];
        int[] parents = new int[c.size()];
        for (int i = 0; i < c.size(); i++) {
            tokens[i] = c.token(i);
            parents[i] = c.parent(i);
        }
        assertArrayEquals(new int[] {R, 10, 11, 20, 21, 20, 30}, tokens);
        assertArrayEquals(new int[] {-1, 0, 0, 1, 1, 2, 3}, parents);
        assertEquals(3, c.depth(6));
        assertEquals(4, t.build(R, l, 3).size(), "node budget cuts the tree");
        assertEquals(63, StaticTree.paper().nodeBudget());
        assertEquals(4, StaticTree.paper().maxDepth());
    }

    @Test
    void treeNamesParseAndChainsReachTheirLength() {
        assertEquals(10, DrafterConfig.parseTree("chain:10", 4, 10, 32).maxDepth(), "a CTC chain is not cut at the depth");
        assertEquals(4, DrafterConfig.parseTree("chain:10", 4, 10).maxDepth(), "one Medusa head per position");
        assertEquals(32, DrafterConfig.parseTree("chain:99", 4, 10, 32).maxDepth());
        assertEquals(StaticTree.paper().maxDepth(), DrafterConfig.parseTree("paper", 4, 10).maxDepth());
        assertTrue(DrafterConfig.parseTree("ranked:8", 4, 10) instanceof RankedTree);
        for (String bad : new String[] {"chain:0", "ranked", "bushy:4", "chain:x"}) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> DrafterConfig.parseTree(bad, 4, 10), bad);
        }
    }

    @Test
    void rankedTreeTakesTheMostLikelyPaths() {
        DepthLists l = lists(new int[][] {{10, 11}, {20, 21}}, new float[][] {{-0.1f, -2.5f}, {-0.2f, -3f}});
        CandidateTree c = new RankedTree(3, 2, 2).build(R, l, 100);
        assertEquals(4, c.size());
        assertEquals(10, c.token(1));        // -0.1
        assertEquals(20, c.token(2));        // -0.1 - 0.2
        assertEquals(1, c.parent(2));
        assertEquals(11, c.token(3));        // -2.5 beats -3.1
        assertEquals(0, c.parent(3));
        // A confident draft gives a deep chain instead.
        DepthLists sure = lists(new int[][] {{10, 11}, {20, 21}, {30, 31}},
                new float[][] {{-0.01f, -6f}, {-0.01f, -6f}, {-0.01f, -6f}});
        CandidateTree deep = new RankedTree(3, 3, 2).build(R, sure, 100);
        assertEquals(3, deep.maxDepth());
    }

    /** root R; n1 7; n2 7 (repeat of n1); n3 blank; n4 9; n5 8 (root child); n6 8 (repeat); n7 7 (sibling copy of n1); n8 3 under n7. */
    private static CandidateTree ctcTree() {
        CandidateTree c = new CandidateTree(R, 9);
        int n1 = c.add(0, 7);
        int n2 = c.add(n1, 7);
        int n3 = c.add(n2, 0);
        c.add(n3, 9);
        int n5 = c.add(0, 8);
        c.add(n5, 8);
        int n7 = c.add(0, 7);
        c.add(n7, 3);
        return c;
    }

    @Test
    void exactTransformCollapsesRenumbersAndMergesSiblings() {
        VerifyTree v = CtcTransform.apply(ctcTree(), CtcTransform.Mode.EXACT, 0);
        assertArrayEquals(new int[] {R, 7, 9, 8, 3}, v.tokens());
        for (int i = 0; i < v.size(); i++) {
            assertTrue(v.retained(i));
            assertEquals(v.parent(i), v.matchParent(i));
        }
        assertArrayEquals(new int[] {-1, 0, 1, 0, 1}, new int[] {v.parent(0), v.parent(1), v.parent(2), v.parent(3), v.parent(4)});
        assertArrayEquals(new int[] {100, 101, 102, 101, 102}, v.positions(100));
        boolean[][] m = v.mask();
        assertArrayEquals(new boolean[] {true, true, true, false, false}, m[2]);
        assertArrayEquals(new boolean[] {true, true, false, false, true}, m[4]);
        assertArrayEquals(new boolean[] {true, false, false, true, false}, m[3]);
    }

    @Test
    void faithfulTransformMasksRepeatsButKeepsBlanksAndPositions() {
        VerifyTree v = CtcTransform.apply(ctcTree(), CtcTransform.Mode.FAITHFUL, 0);
        // Slots: R, n1 7, n3 blank, n4 9, n5 8, n7 7, n8 3 (repeats n2 and n6 masked out, no sibling merge).
        assertArrayEquals(new int[] {R, 7, 0, 9, 8, 7, 3}, v.tokens());
        assertArrayEquals(new int[] {0, 1, 3, 4, 1, 1, 2}, new int[] {v.offset(0), v.offset(1), v.offset(2), v.offset(3),
                v.offset(4), v.offset(5), v.offset(6)});
        assertFalse(v.retained(2), "blank is fed to the base but never accepted");
        assertEquals(2, v.parent(3), "the blank stays in the attention path");
        assertEquals(1, v.matchParent(3), "9 must match the prediction after 7 (the blank is transparent)");
        assertEquals(5, v.parent(6));
        assertTrue(v.mask()[3][2]);
    }

    @Test
    void noneTransformKeepsRepeatsAndBlanks() {
        VerifyTree v = CtcTransform.apply(ctcTree(), CtcTransform.Mode.NONE, 0);
        assertEquals(8, v.size(), "only the sibling copy of n1 is merged");
        assertArrayEquals(new int[] {R, 7, 7, 0, 9, 8, 8, 3}, v.tokens());
    }

    @Test
    void greedyAcceptanceTakesTheLongestMatchingPath() {
        VerifyTree v = CtcTransform.apply(ctcTree(), CtcTransform.Mode.EXACT, 0);
        // argmax after slots: R -> 7, 7 -> 3, 9 -> 1, 8 -> 2, 3 -> 42
        Acceptance.Result r = Acceptance.greedy(v, new int[] {7, 3, 1, 2, 42});
        assertArrayEquals(new int[] {1, 4}, r.acceptedSlots());
        assertEquals(42, r.bonusToken());
        Acceptance.Result none = Acceptance.greedy(v, new int[] {6, 3, 1, 2, 42});
        assertEquals(0, none.acceptedCount());
        assertEquals(6, none.bonusToken(), "nothing accepted: the bonus token is the base's own next token");
    }

    @Test
    void faithfulAcceptanceSkipsBlankSlotsAndPrefersTheEarliestLongestPath() {
        VerifyTree v = CtcTransform.apply(ctcTree(), CtcTransform.Mode.FAITHFUL, 0);
        // R -> 7 (slots 1 and 5 both hold 7); after slot 1: 9 (slot 3 via the blank); after slot 5: 3 (slot 6).
        int[] argmax = {7, 9, -1, 11, -1, 3, 12};
        Acceptance.Result r = Acceptance.greedy(v, argmax);
        assertArrayEquals(new int[] {1, 3}, r.acceptedSlots());
        assertEquals(11, r.bonusToken());
        assertEquals(2, v.retainedDepth(3));
    }

    @Test
    void sampledAcceptanceDescendsOnDrawnTokens() {
        VerifyTree v = CtcTransform.apply(ctcTree(), CtcTransform.Mode.EXACT, 0);
        Deque<Integer> visited = new ArrayDeque<>();
        int[] draws = {8, 77, -1, -1, -1};   // slot 0 draws 8 -> slot 3; slot 3 draws 77: no child -> bonus
        Acceptance.Result r = Acceptance.sampled(v, slot -> {
            visited.add(slot);
            return draws[visited.size() - 1];
        });
        assertArrayEquals(new int[] {3}, r.acceptedSlots());
        assertEquals(77, r.bonusToken());
        assertArrayEquals(new Integer[] {0, 3}, visited.toArray(new Integer[0]));
    }

    @Test
    void verifyTreeLimitsDepthAndSize() {
        VerifyTree v = CtcTransform.apply(ctcTree(), CtcTransform.Mode.EXACT, 0);
        VerifyTree shallow = v.limitDepth(1);
        assertArrayEquals(new int[] {R, 7, 8}, shallow.tokens());
        assertEquals(3, v.truncate(3).size());
    }
}

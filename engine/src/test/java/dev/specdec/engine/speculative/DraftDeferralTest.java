package dev.specdec.engine.speculative;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.specdec.engine.EngineSession;
import dev.specdec.engine.ForwardMode;
import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.model.DraftModule;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.testing.TinyModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Holding accepted pairs back (steps where drafting does not pay) and feeding them later leaves the
 * CTC drafter exactly where drafting every step would have: the same draft cache, so the same
 * proposals; also across the cap that forces held pairs in, and through a full-tensor snapshot.
 */
class DraftDeferralTest {
    @TempDir
    static Path tmp;
    static Path model;
    static final int H = TinyModel.HIDDEN;

    @BeforeAll
    static void makeModel() throws Exception {
        model = TinyModel.create(tmp.resolve("model"));
    }

    @ParameterizedTest
    @EnumSource(ForwardMode.class)
    void heldPairsGiveTheSameProposals(ForwardMode forward) throws Exception {
        try (EngineSession s = EngineSession.open(model, ai.djl.Device.cpu(), 2, forward);
             NDManager m = NDManager.newBaseManager()) {
            DraftModule module = DraftModule.load(model.resolve("drafter-ctc/model.safetensors"), s.model());
            if (forward == ForwardMode.COMPILED) {
                module.compile();
            }
            try (CtcDrafter drafter = new CtcDrafter(module, 2, 4, 5)) {
                int[] prompt = {5, 9, 14, 20, 33, 41, 7, 8};
                SequenceState eager = sequence(s, "every-step", prompt);
                SequenceState held = sequence(s, "held", prompt);
                NDArray promptHidden = m.randomNormal(0, 1, new Shape(1, prompt.length, H), DataType.FLOAT32);
                drafter.prefill(List.of(eager), promptHidden, null);
                drafter.prefill(List.of(held), promptHidden, null);
                m.getEngine().setRandomSeed(3);
                for (int step = 0; step < CtcDrafter.MAX_PENDING + 6; step++) {
                    int n = 1 + step % 3;
                    NDArray pairs = m.randomNormal(0, 1, new Shape(1, n, H), DataType.FLOAT32);
                    int[][] tokens = {next(step, n)};
                    drafter.advance(List.of(eager), pairs, tokens, null);
                    if (step % 7 == 6) {
                        drafter.advance(List.of(held), pairs, tokens, null);
                        assertSameLists(eager, held, forward + " step " + step);
                    } else {
                        drafter.defer(List.of(held), pairs, tokens);
                        assertEquals(0, held.draftState().lists().depth(), "a deferred step proposes nothing");
                    }
                }
                // Through a full-tensor snapshot, held pairs included.
                java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                drafter.defer(List.of(held), m.randomNormal(0, 1, new Shape(1, 2, H), DataType.FLOAT32), new int[][] {{3, 4}});
                held.draftState().write(new java.io.DataOutputStream(bytes));
                SequenceState copy = sequence(s, "copy", prompt);
                copy.attachDraftState(drafter.readState(new java.io.DataInputStream(
                        new java.io.ByteArrayInputStream(bytes.toByteArray()))));
                NDArray last = m.randomNormal(0, 1, new Shape(1, 1, H), DataType.FLOAT32);
                drafter.advance(List.of(held), last, new int[][] {{6}}, null);
                drafter.advance(List.of(copy), last, new int[][] {{6}}, null);
                assertSameLists(held, copy, forward + " after a snapshot");
                SequenceState.releaseAll(List.of(eager, held, copy));
            }
        }
    }

    private static SequenceState sequence(EngineSession s, String id, int[] prompt) {
        SequenceState seq = s.newSequence(new DecodeRequest(id, prompt, SamplingParams.greedy(100)));
        seq.restoreGenerated(new int[] {11});
        return seq;
    }

    private static int[] next(int step, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 3 + (step * 17 + i * 5) % (TinyModel.VOCAB - 3);
        }
        return t;
    }

    private static void assertSameLists(SequenceState a, SequenceState b, String what) {
        DepthLists x = a.draftState().lists();
        DepthLists y = b.draftState().lists();
        assertEquals(x.depth(), y.depth(), what);
        for (int d = 0; d < x.depth(); d++) {
            assertArrayEquals(x.tokens()[d], y.tokens()[d], what + " depth " + d);
            for (int k = 0; k < x.width(); k++) {
                assertEquals(x.logProbs()[d][k], y.logProbs()[d][k], 1e-4, what + " depth " + d);
            }
        }
    }
}

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The adaptive tree's parts: the expected-value rule that stops a draft chain (looking past a flat
 * stretch of costs, the same in the eager and the compiled chain), the measured cost model's
 * anchors and interpolation, and the acceptance calibration.
 */
class AdaptivePolicyTest {
    @TempDir
    static Path tmp;
    static Path model;

    @BeforeAll
    static void makeModel() throws Exception {
        model = TinyModel.create(tmp.resolve("model"));
    }

    private static double[] table(double a) {
        double[] t = new double[AcceptanceModel.BINS];
        Arrays.fill(t, a);
        return t;
    }

    @Test
    void theChainGoesOnWhileSomeDeeperStepPaysAndStopsWhenNoneDoes() {
        // One sequence, acceptance 0.9: depth 1 expects 1.9 tokens, depth 2 2.71, depth 3 3.44, ...
        DraftBudget steep = new DraftBudget(new double[] {10, 11, 12, 100, 200, 300}, table(0.9), new double[] {1});
        assertTrue(steep.worthDeeper(1, 1.9, 0.9, 0.81), "depth 2 costs little more than depth 1");
        assertFalse(steep.worthDeeper(2, 2.71, 0.81, 0.729), "every deeper step costs far more");
        // A flat stretch: depth 3 is no better than depth 2 per millisecond, depth 4 is.
        DraftBudget flat = new DraftBudget(new double[] {10, 11, 12, 16, 12.5, 40}, table(0.9), new double[] {1});
        assertTrue(flat.worthDeeper(2, 2.71, 0.81, 0.729), "a one-step look would stop here; depth 4 pays");
        assertFalse(flat.worthDeeper(5, 4.0, 0.5, 0.45), "no deeper step to draft");
        assertFalse(flat.worthDeeper(1, 1.0, 0, 0), "nothing reaches this depth");
    }

    @Test
    void eagerAndCompiledChainsStopAtTheSameDepth() throws Exception {
        DraftBudget budget = new DraftBudget(new double[] {10, 11, 12, 100, 200, 300, 400}, table(0.9), new double[] {1});
        int[] depths = new int[2];
        for (ForwardMode forward : ForwardMode.values()) {
            try (EngineSession s = EngineSession.open(model, ai.djl.Device.cpu(), 1, forward);
                 NDManager m = NDManager.newBaseManager()) {
                DraftModule module = DraftModule.load(model.resolve("drafter-ctc/model.safetensors"), s.model());
                if (forward == ForwardMode.COMPILED) {
                    module.compile();
                }
                try (CtcDrafter drafter = new CtcDrafter(module, 1, 6, 3)) {
                    int[] prompt = {5, 9, 14, 20, 33, 41, 7, 8};
                    SequenceState seq = s.newSequence(new DecodeRequest("chain", prompt, SamplingParams.greedy(50)));
                    seq.restoreGenerated(new int[] {11});
                    m.getEngine().setRandomSeed(5);
                    NDArray hidden = m.randomNormal(0, 1, new Shape(1, prompt.length, TinyModel.HIDDEN), DataType.FLOAT32);
                    drafter.prefill(List.of(seq), hidden, budget);
                    depths[forward.ordinal()] = seq.draftState().lists().depth();
                    drafter.prefill(List.of(seq), hidden, null);
                    assertEquals(6, seq.draftState().lists().depth(), forward + ": without a budget the whole depth");
                    SequenceState.releaseAll(List.of(seq));
                }
            }
        }
        assertEquals(2, depths[0], "eager chain under the budget");
        assertEquals(2, depths[1], "compiled chain under the budget");
    }

    @Test
    void verifyCostsAreMeasuredAtAnchorsAndInterpolatedBetween() throws Exception {
        try (EngineSession s = EngineSession.open(model, ai.djl.Device.cpu(), 6, ForwardMode.COMPILED)) {
            CostModel costs = new CostModel(s.model(), 6);
            costs.measureAnchors();
            assertEquals(Set.of(1, 2, 4, 6), costs.anchors(), "powers of two below the largest batch, and it");
            for (int b = 1; b <= 6; b++) {
                for (int t = 2; t <= 20; t++) {
                    assertTrue(costs.verifyMs(b, t) >= costs.verifyMs(b, t - 1) - 1e-9, "more tokens never cost less: b=" + b + " t=" + t + " " + costs.describe(b));
                }
            }
            double low = costs.verifyMs(4, 3);
            double high = costs.verifyMs(6, 3);
            double mid = costs.verifyMs(5, 3);
            assertEquals((low + high) / 2, mid, 1e-9, "batch 5 lies half-way between the anchors 4 and 6");
            assertEquals(Set.of(1, 2, 4, 6), costs.anchors(), "interpolation measures nothing new");
            double before = costs.verifyMs(5, 3);
            for (int i = 0; i < 50; i++) {
                costs.observeVerify(5, 3, 3 * before);
            }
            assertTrue(costs.verifyMs(5, 3) > 1.8 * before, "a batch size's costs follow its observed forwards");
            assertEquals(low, costs.verifyMs(4, 3), 1e-9, "and only that batch size's");
        }
    }

    @Test
    void acceptanceCalibratesToWhatVerificationAccepts() {
        AcceptanceModel a = new AcceptanceModel();
        int[][] ids = {{1}, {2}, {3}};
        float[][] lps = {{(float) Math.log(0.07)}, {(float) Math.log(0.07)}, {(float) Math.log(0.07)}};
        DepthLists lists = new DepthLists(ids, lps);
        assertEquals(0.5, a.perToken(0.07, 1), 1e-9, "an unseen bin starts at even odds");
        for (int i = 0; i < 400; i++) {
            a.observe(lists, 3, 3);     // every drafted token of probability 0.07 accepted
        }
        assertTrue(a.perToken(0.07, 1) > 0.95, "under-confident drafts learn their real rate");
        assertEquals(0.5 * 0.5, new AcceptanceModel().perToken(0.07, 0.5), 1e-9, "a request's factor scales it");
    }

    @Test
    void anNgramBranchIsGraftedAsLiteralTokensBesideTheChain() {
        int a = 7;
        int b = 8;
        int c = 9;
        CandidateTree tree = new CandidateTree(1, 8);
        int n1 = tree.add(0, a);
        int n2 = tree.add(n1, a);        // a CTC repeat: merged away by the transform
        tree.add(n2, b);
        assertEquals(1, tree.graft(new int[] {a, a, c}, 8, 0), "follows the chain's kept first token only");
        VerifyTree v = CtcTransform.apply(tree, CtcTransform.Mode.EXACT, 0);
        // Chain a b (collapsed) and branch a a c (literal): slots root, a, b, a, c.
        assertEquals(List.of(1, a, b, a, c), Arrays.stream(v.tokens()).boxed().toList());
        assertEquals(2, v.offset(4) - v.offset(1), "the branch's c sits two positions after the shared a");
        CandidateTree capped = new CandidateTree(1, 4);
        assertEquals(0, capped.graft(new int[] {a, b, c}, 2, 0));
        assertEquals(3, capped.size(), "at most maxNew new nodes");
    }

    @Test
    void theNgramBranchLearnsFromCommittedTokensAndPaysOnlyWhenCheap() throws Exception {
        try (EngineSession s = EngineSession.open(model, ai.djl.Device.cpu(), 2, ForwardMode.COMPILED)) {
            SequenceState seq = s.newSequence(new DecodeRequest("n", new int[] {5, 6, 7, 5, 6}, SamplingParams.greedy(50)));
            NgramBranch branch = new NgramBranch();
            int[] continuation = {7, 5, 6};
            for (int i = 0; i < 200; i++) {
                branch.observe(seq, continuation, new int[] {7, 5, 6, 9});    // always right
            }
            CostModel costs = new CostModel(s.model(), 2);
            double step = costs.verifyMs(1, 1);
            int cheap = branch.choose(List.of(seq), new int[][] {continuation}, new int[] {0}, new double[] {0}, 1, step, 1, 17, costs);
            assertEquals(3, cheap, "a branch that is always right and costs little is verified whole");
            assertEquals(0, branch.choose(List.of(seq), new int[][] {continuation}, new int[] {0}, new double[] {1}, 1,
                    step, 1, 17, costs), "nor where the chain is sure to be right instead");
            NgramBranch wrong = new NgramBranch();
            for (int i = 0; i < 200; i++) {
                wrong.observe(seq, continuation, new int[] {8, 8});             // never right
            }
            assertEquals(0, wrong.choose(List.of(seq), new int[][] {continuation}, new int[] {0}, new double[] {0}, 1, step, 1, 17, costs),
                    "a branch that is never right is not worth a row");
            SequenceState.releaseAll(List.of(seq));
        }
    }
}

package dev.specdec.engine.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pretraining on a small slice: the loss falls, resume is bit-exact, a GC between forward and backward is harmless. */
class BaseTrainerTest {

    static Path corpus(Path dir) throws Exception {
        StringBuilder sb = new StringBuilder();
        String[] verses = {
                "In the beginning God created the heaven and the earth.",
                "And the earth was without form, and void; and darkness was upon the face of the deep.",
                "And God said, Let there be light: and there was light.",
                "And God saw the light, that it was good: and God divided the light from the darkness.",
                "And God called the light Day, and the darkness he called Night.",
                "And the evening and the morning were the first day."};
        for (int chapter = 0; chapter < 12; chapter++) {
            for (int v = 0; v < verses.length; v++) {
                sb.append(verses[(v + chapter) % verses.length]).append('\n');
            }
            sb.append('\n');
        }
        Path f = dir.resolve("corpus.txt");
        Files.writeString(f, sb.toString());
        return f;
    }

    static BaseTrainer.Options options(Path corpus, Path out, int steps) {
        BaseTrainer.Options o = new BaseTrainer.Options();
        o.corpus = corpus;
        o.out = out;
        o.vocabSize = 300;
        o.hidden = 32;
        o.intermediate = 64;
        o.layers = 2;
        o.heads = 4;
        o.kvHeads = 2;
        o.maxPositions = 64;
        o.seqLen = 32;
        o.batch = 4;
        o.microBatch = 2;
        o.steps = steps;
        o.lr = 3e-3;
        o.warmup = 3;
        o.logEvery = 5;
        o.evalEvery = 1000;
        o.checkpointEvery = 5;
        o.log = new PrintStream(new ByteArrayOutputStream());
        return o;
    }

    @Test
    void lossFallsOnASmallSlice(@TempDir Path dir) throws Exception {
        BaseTrainer.Result r = new BaseTrainer(options(corpus(dir), dir.resolve("m"), 30)).run();
        List<Double> l = r.losses();
        double first = l.subList(0, 5).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double last = l.subList(l.size() - 5, l.size()).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        assertTrue(last < first - 1.0, "loss should fall clearly: first " + first + ", last " + last);
        assertTrue(Files.isRegularFile(dir.resolve("m/model.safetensors")));
        assertTrue(Files.isRegularFile(dir.resolve("m/tokenizer.json")));
    }

    @Test
    void resumeContinuesBitForBit(@TempDir Path dir) throws Exception {
        Path c = corpus(dir);
        BaseTrainer.Options straight = options(c, dir.resolve("a"), 20);
        List<Double> a = new BaseTrainer(straight).run().losses();

        BaseTrainer.Options first = options(c, dir.resolve("b"), 20);
        first.stopAfterSteps = 10;   // "killed" after the step-10 checkpoint
        List<Double> b1 = new BaseTrainer(first).run().losses();
        List<Double> b2 = new BaseTrainer(options(c, dir.resolve("b"), 20)).run().losses();
        assertEquals(10, b1.size());
        assertEquals(10, b2.size());
        for (int i = 0; i < 10; i++) {
            assertEquals(a.get(i), b1.get(i), 0.0, "loss of step " + (i + 1));
            assertEquals(a.get(10 + i), b2.get(i), 0.0, "loss of resumed step " + (11 + i));
        }
        Map<String, float[]> pa = BaseTrainer.readParameters(dir.resolve("a"));
        Map<String, float[]> pb = BaseTrainer.readParameters(dir.resolve("b"));
        assertEquals(pa.keySet(), pb.keySet());
        for (String k : pa.keySet()) {
            assertArrayEquals(pa.get(k), pb.get(k), 0f, k);
        }
    }

    @Test
    void garbageCollectionBetweenForwardAndBackwardChangesNothing(@TempDir Path dir) throws Exception {
        Path c = corpus(dir);
        BaseTrainer.Options plain = options(c, dir.resolve("p"), 6);
        BaseTrainer.Options gc1 = options(c, dir.resolve("g1"), 6);
        gc1.gcBetweenForwardAndBackward = true;
        BaseTrainer.Options gc2 = options(c, dir.resolve("g2"), 6);
        gc2.gcBetweenForwardAndBackward = true;
        List<Double> p = new BaseTrainer(plain).run().losses();
        List<Double> g1 = new BaseTrainer(gc1).run().losses();
        List<Double> g2 = new BaseTrainer(gc2).run().losses();
        assertEquals(g1, g2, "two runs with one seed and a GC between forward and backward");
        assertEquals(p, g1, "a GC between forward and backward must not change the losses");
        for (double x : g1) {
            assertTrue(Double.isFinite(x));
        }
    }
}

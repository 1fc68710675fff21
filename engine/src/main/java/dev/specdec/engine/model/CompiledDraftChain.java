package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import dev.specdec.engine.compiled.ForwardSource;
import dev.specdec.engine.compiled.TorchScriptArchive;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The CTC drafter's whole draft chain as one TorchScript call ({@link ForwardSource#draftChain}):
 * the draft layer over each sequence's newly accepted pairs, then one single-token draft step per
 * depth along the top-1 chain, with the top-k of every depth. The eager chain pays a forward pass
 * of native calls per depth; this one pays about sixty native calls for the whole chain.
 */
final class CompiledDraftChain implements AutoCloseable {
    private final PtSymbolBlock module;
    private final IValue weights;
    private final ModelConfig config;
    private final NDArray invFreq;
    private final int vocab;

    private CompiledDraftChain(PtSymbolBlock module, IValue weights, ModelConfig config, NDArray invFreq, int vocab) {
        this.module = module;
        this.weights = weights;
        this.config = config;
        this.invFreq = invFreq;
        this.vocab = vocab;
    }

    static CompiledDraftChain of(ModelConfig c, NDManager manager, NDArray rotateHalf, NDArray embed, NDArray lmHead,
                                 NDArray fcWeight, NDArray fcBias, DecoderLayer layer) throws IOException {
        ForwardSource.Shape shape = new ForwardSource.Shape(c.hiddenSize, c.numHeads, c.numKvHeads, c.headDim,
                c.intermediateSize, 1, c.rmsNormEps, layer.hasQkvBias(), layer.hasOutputBias(), layer.hasMlpBias(), false);
        NDArray bias = fcBias != null ? fcBias : manager.zeros(new Shape(c.hiddenSize));
        List<NDArray> w = new ArrayList<>(List.of(rotateHalf, embed, lmHead, fcWeight, bias));
        w.addAll(layer.compiledWeights());
        PtSymbolBlock module = TorchScriptArchive.load((PtNDManager) manager,
                TorchScriptArchive.write("DraftChain", ForwardSource.draftChain(shape)));
        return new CompiledDraftChain(module,
                IValue.listFrom(w.stream().map(a -> (PtNDArray) a).toArray(PtNDArray[]::new)), c,
                manager.create(c.rope.invFreq()), (int) embed.getShape().get(0));
    }

    /**
     * Runs the chain for a batch: {@code hidden [B, T, H]} and {@code inputs} are the first pass (each
     * sequence's new pairs, appended to its draft cache); the chain's own rows are scratch and stay
     * out of the caches' lengths.
     */
    DraftModule.Proposals run(NDManager out, NDArray hidden, List<SequenceInput> inputs, KvCachePool pool, int depth,
                              int width, DraftModule.ChainStop stop, DraftModule.Sampling sampling) {
        BatchLayout l = new BatchLayout(inputs, config.rope, config.numHeads, config.numKvHeads, config.headDim, 0,
                pool, vocab);
        long[] lens = new long[l.batch];
        long[] lastPos = new long[l.batch];
        int longest = 0;
        for (int b = 0; b < l.batch; b++) {
            SequenceInput s = inputs.get(b);
            lens[b] = s.cache().length() + s.tokens().length;
            lastPos[b] = s.positions()[s.tokens().length - 1];
            longest = Math.max(longest, (int) lens[b]);
        }
        pool.ensureCapacity(longest + depth);
        long b = l.batch;
        long t = l.steps;
        int group = config.numHeads / config.numKvHeads;
        try (CompiledCall call = new CompiledCall(out)) {
            IValue slots = call.longs(l.slots);
            IValue[] parts = call.run(module, weights, call.tensor(pool.storage()), call.tensor(hidden),
                    call.longs(l.tokens, new Shape(b, t)),
                    call.floats(l.cos, new Shape(b, t, 1, config.headDim)),
                    call.floats(l.sin, new Shape(b, t, 1, config.headDim)),
                    l.mask != null ? call.floats(l.mask, new Shape(b, 1, group * t, l.keyLength))
                            : call.floats(new float[0], new Shape(0)),
                    call.flag(l.mask != null), call.longs(l.writeSlots), call.longs(l.writeRows),
                    call.scalar((long) Math.max(0, l.firstSlot)), slots, call.flag(l.firstSlot < 0),
                    call.scalar((long) l.keyLength), call.longs(l.lastRows()), slots, call.longs(lens),
                    call.longs(lastPos), call.tensor(invFreq), call.scalar((double) config.rope.attentionScaling()),
                    call.scalar((long) depth), call.scalar((long) width), call.flag(stop != null),
                    call.floats(toFloats(stop == null ? null : stop.acceptance(), ForwardSource.BINS),
                            new Shape(ForwardSource.BINS)),
                    call.floats(toFloats(stop == null ? null : stop.requestFactor(), l.batch), new Shape(l.batch)),
                    call.doubles(stop == null ? new double[] {1} : stop.stepMs()), call.flag(sampling != null),
                    call.longs(sampling == null ? new long[l.batch] : sampling.seeds()),
                    call.floats(sampling == null ? new float[l.batch] : sampling.inverseTemperature(), new Shape(l.batch)));
            NDArray topIds = call.result(parts[0]);
            NDArray topLps = call.result(parts[1]);
            try {
                BatchLayout.commitRows(inputs);
                return DraftModule.Proposals.of(topIds.toLongArray(), topLps.toFloatArray(), l.batch,
                        (int) topIds.getShape().get(1), width);
            } finally {
                topIds.close();
                topLps.close();
            }
        }
    }

    private static float[] toFloats(double[] a, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = a == null ? 1f : (float) a[i];
        }
        return f;
    }

    @Override
    public void close() {
        weights.close();
        invFreq.close();
        module.close();
    }
}

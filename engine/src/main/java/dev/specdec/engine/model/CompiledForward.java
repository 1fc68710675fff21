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
 * The base model's forward pass as one TorchScript call ({@link ForwardSource#base}): the model's
 * weights go in once as a tensor list, and each call passes only the batch's layout (token ids,
 * rotary tables, mask, cache rows). The eager forward makes about 420 native calls per decoded
 * token; this one about fifty, all outside the layers.
 */
final class CompiledForward implements AutoCloseable {
    private final PtSymbolBlock module;
    private final IValue weights;
    private final int heads;
    private final int kvHeads;
    private final int headDim;

    private CompiledForward(PtSymbolBlock module, IValue weights, ModelConfig c) {
        this.module = module;
        this.weights = weights;
        this.heads = c.numHeads;
        this.kvHeads = c.numKvHeads;
        this.headDim = c.headDim;
    }

    static CompiledForward of(ModelConfig c, NDManager manager, NDArray rotateHalf, NDArray embed, NDArray lmHead,
                              NDArray finalNorm, DecoderLayer[] layers) throws IOException {
        DecoderLayer first = layers[0];
        ForwardSource.Shape shape = new ForwardSource.Shape(c.hiddenSize, c.numHeads, c.numKvHeads, c.headDim,
                c.intermediateSize, layers.length, c.rmsNormEps, first.hasQkvBias(), first.hasOutputBias(),
                first.hasMlpBias(), true);
        List<NDArray> w = new ArrayList<>(List.of(rotateHalf, embed, lmHead, finalNorm));
        for (DecoderLayer l : layers) {
            w.addAll(l.compiledWeights());
        }
        PtSymbolBlock module = TorchScriptArchive.load((PtNDManager) manager,
                TorchScriptArchive.write("Llama", ForwardSource.base(shape)));
        return new CompiledForward(module, IValue.listFrom(w.stream().map(a -> (PtNDArray) a).toArray(PtNDArray[]::new)),
                c);
    }

    ForwardOutput forward(NDManager out, BatchLayout l, KvCachePool pool, ForwardOutput.LogitsMode mode) {
        long b = l.batch;
        long t = l.steps;
        int group = heads / kvHeads;
        long logitsMode = switch (mode) {
            case NONE -> 0;
            case ALL -> 1;
            case LAST -> 2;
        };
        try (CompiledCall call = new CompiledCall(out)) {
            IValue wslot = call.longs(l.writeSlots);
            IValue[] parts = call.run(module, weights, call.tensor(pool.storage()),
                    call.longs(l.tokens, new Shape(b, t)),
                    call.floats(l.cos, new Shape(b, t, 1, headDim)),
                    call.floats(l.sin, new Shape(b, t, 1, headDim)),
                    l.mask != null ? call.floats(l.mask, new Shape(b, 1, group * t, l.keyLength))
                            : call.floats(new float[0], new Shape(0)),
                    call.flag(l.mask != null), wslot, call.longs(l.writeRows),
                    call.scalar((long) Math.max(0, l.firstSlot)),
                    l.firstSlot < 0 ? call.longs(l.slots) : wslot,
                    call.flag(l.firstSlot < 0), call.scalar((long) l.keyLength),
                    mode == ForwardOutput.LogitsMode.LAST ? call.longs(l.lastRows()) : wslot,
                    call.scalar(logitsMode));
            NDArray hidden = call.result(parts[0]);
            NDArray logits = mode == ForwardOutput.LogitsMode.NONE ? null : call.result(parts[1]);
            return new ForwardOutput(out, hidden, logits, l.batch, l.steps);
        }
    }

    @Override
    public void close() {
        weights.close();
        module.close();
    }
}

package dev.specdec.engine.decode;

import dev.specdec.engine.model.ForwardOutput;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.SequenceInput;
import dev.specdec.engine.request.DecodingMethod;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Ordinary autoregressive decoding: one base-model call per token, batched over sequences. */
public final class PlainDecoder implements Decoder {
    private final LlamaModel model;
    private final KvCachePool pool;

    public PlainDecoder(LlamaModel model, KvCachePool pool) {
        this.model = model;
        this.pool = pool;
    }

    @Override
    public DecodingMethod method() {
        return DecodingMethod.NONE;
    }

    @Override
    public int maxRowsPerStep() {
        return 1;
    }

    @Override
    public void prefill(List<SequenceState> fresh) {
        if (fresh.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        List<SequenceState> batch = new ArrayList<>(fresh);
        List<SequenceInput> inputs = BatchSupport.allocateAndFill(pool, batch, false);
        try (ForwardOutput out = model.forward(inputs, ForwardOutput.LogitsMode.LAST)) {
            BatchSupport.appendSampled(batch, out.logits, model.config.vocabSize);
        }
        long dt = (System.nanoTime() - t0) / fresh.size();
        fresh.forEach(s -> s.stats().prefillNanos += dt);
    }

    @Override
    public void restore(List<SequenceState> seqs) {
        if (seqs.isEmpty()) {
            return;
        }
        model.forward(BatchSupport.allocateAndFill(pool, seqs, true), ForwardOutput.LogitsMode.NONE).close();
    }

    @Override
    public byte[] exportCaches(SequenceState s) throws IOException {
        return CacheSnapshots.export(s);
    }

    @Override
    public void importCaches(List<SequenceState> seqs, List<byte[]> snapshots) throws IOException {
        CacheSnapshots.importAll(pool, seqs, snapshots, null);
    }

    @Override
    public void step(List<SequenceState> active) {
        if (active.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        List<SequenceState> batch = new ArrayList<>(active);
        batch.sort(Comparator.comparingInt(s -> s.cache().slot()));
        List<SequenceInput> inputs = new ArrayList<>(batch.size());
        for (SequenceState s : batch) {
            inputs.add(new SequenceInput(s.cache(), new int[] {s.lastToken()}, new int[] {s.lastPosition()}, null));
        }
        try (ForwardOutput out = model.forward(inputs, ForwardOutput.LogitsMode.LAST)) {
            BatchSupport.appendSampled(batch, out.logits, model.config.vocabSize);
        }
        long dt = (System.nanoTime() - t0) / batch.size();
        for (SequenceState s : batch) {
            s.stats().steps++;
            s.stats().stepTokens++;
            s.stats().verifyNanos += dt;
        }
    }
}

package dev.specdec.engine.generate;

import ai.djl.ndarray.NDArray;
import dev.specdec.engine.model.ForwardOutput;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.SequenceInput;

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
    public String name() {
        return "none";
    }

    @Override
    public void prefill(List<SequenceState> fresh) {
        if (fresh.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        List<SequenceState> batch = new ArrayList<>(fresh);
        List<SequenceInput> inputs = new ArrayList<>();
        for (SequenceState s : batch) {
            s.cache = pool.allocate();
            inputs.add(SequenceInput.causal(s.cache, s.prompt()));
        }
        sortBySlot(batch, inputs);
        try (ForwardOutput out = model.forward(inputs, ForwardOutput.LogitsMode.LAST)) {
            appendSampled(batch, out.logits, model.config.vocabSize);
        }
        long dt = (System.nanoTime() - t0) / fresh.size();
        fresh.forEach(s -> s.stats.prefillNanos += dt);
    }

    @Override
    public void restore(List<SequenceState> seqs) {
        if (seqs.isEmpty()) {
            return;
        }
        List<SequenceInput> inputs = new ArrayList<>();
        for (SequenceState s : seqs) {
            s.cache = pool.allocate();
            int[] ctx = s.context();
            inputs.add(SequenceInput.causal(s.cache, java.util.Arrays.copyOf(ctx, ctx.length - 1)));
        }
        model.forward(inputs, ForwardOutput.LogitsMode.NONE).close();
    }

    @Override
    public byte[] exportCaches(SequenceState s) throws java.io.IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            CacheSnapshots.writeRows(out, s.cache);
        }
        return bytes.toByteArray();
    }

    @Override
    public void importCaches(List<SequenceState> seqs, List<byte[]> snapshots) throws java.io.IOException {
        for (int i = 0; i < seqs.size(); i++) {
            SequenceState s = seqs.get(i);
            s.cache = pool.allocate();
            try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(snapshots.get(i)))) {
                CacheSnapshots.readRows(in, s.cache);
            }
        }
    }

    @Override
    public void step(List<SequenceState> active) {
        if (active.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        List<SequenceState> batch = new ArrayList<>(active);
        batch.sort(Comparator.comparingInt(s -> s.cache.slot()));
        List<SequenceInput> inputs = new ArrayList<>(batch.size());
        for (SequenceState s : batch) {
            inputs.add(new SequenceInput(s.cache, new int[] {s.lastToken()}, new int[] {s.lastPosition()}, null));
        }
        try (ForwardOutput out = model.forward(inputs, ForwardOutput.LogitsMode.LAST)) {
            appendSampled(batch, out.logits, model.config.vocabSize);
        }
        long dt = (System.nanoTime() - t0) / batch.size();
        for (SequenceState s : batch) {
            s.stats.steps++;
            s.stats.stepTokens++;
            s.stats.verifyNanos += dt;
        }
    }

    /** Samples one token per row of {@code logits [B, V]} and appends it to the matching sequence. */
    static void appendSampled(List<SequenceState> batch, NDArray logits, int vocab) {
        boolean allGreedy = batch.stream().allMatch(s -> s.params().isGreedy());
        if (allGreedy) {
            long[] ids = logits.argMax(1).toLongArray();
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).append((int) ids[i]);
            }
            return;
        }
        float[] rows = logits.toFloatArray();
        for (int i = 0; i < batch.size(); i++) {
            SequenceState s = batch.get(i);
            s.append(TokenSampler.sample(rows, i * vocab, vocab, s.params(), s.nextPosition()));
        }
    }

    /** Orders sequences (and their inputs) by cache slot so the batch reads one contiguous slice. */
    static void sortBySlot(List<SequenceState> seqs, List<SequenceInput> inputs) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < seqs.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingInt(i -> inputs.get(i).cache().slot()));
        List<SequenceState> s2 = new ArrayList<>();
        List<SequenceInput> i2 = new ArrayList<>();
        for (int i : order) {
            s2.add(seqs.get(i));
            i2.add(inputs.get(i));
        }
        seqs.clear();
        seqs.addAll(s2);
        inputs.clear();
        inputs.addAll(i2);
    }
}

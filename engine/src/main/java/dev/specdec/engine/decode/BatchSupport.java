package dev.specdec.engine.decode;

import ai.djl.ndarray.NDArray;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.SequenceInput;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** What every decoder does the same way: allocating caches for new sequences and sampling a batch's next tokens. */
public final class BatchSupport {
    private BatchSupport() {
    }

    /**
     * Allocates a cache for each sequence (in order, so slots ascend) and returns the inputs that fill
     * it: the prompt for a fresh sequence, or the context minus its last token for a restored one.
     */
    public static List<SequenceInput> allocateAndFill(KvCachePool pool, List<SequenceState> seqs, boolean restoring) {
        List<SequenceInput> inputs = new ArrayList<>(seqs.size());
        for (SequenceState s : seqs) {
            s.attachCache(pool.allocate());
            int[] tokens = s.prompt();
            if (restoring) {
                int[] ctx = s.context();
                tokens = Arrays.copyOf(ctx, ctx.length - 1);
            }
            inputs.add(SequenceInput.causal(s.cache(), tokens));
        }
        return inputs;
    }

    /** Samples one token per row of {@code logits [B, V]} and appends it to the matching sequence. */
    public static void appendSampled(List<SequenceState> batch, NDArray logits, int vocab) {
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
}

package dev.specdec.job.state;

/**
 * The keyed-state entry for one request's KV cache. The tensors themselves stay with the engine
 * thread that mutates them in place every step (a snapshot thread must never read them); this entry
 * is what a checkpoint keeps of them:
 * <ul>
 *   <li>compact form ({@code tensors == null}): only the row count; after a restore the caches of
 *       the base model and the drafter are rebuilt by re-prefilling the committed tokens;</li>
 *   <li>full form: the engine's byte snapshot of the base KV rows plus the drafter state, taken at
 *       the checkpoint, so a restore skips the re-prefill (for small models).</li>
 * </ul>
 *
 * @param rows    KV rows the cache held after the last committed step (prompt + generated - 1)
 * @param tensors full-tensor snapshot matching {@code rows}, or null in compact form
 */
public record KvCacheHandle(int rows, byte[] tensors) {
    public static KvCacheHandle compact(int rows) {
        return new KvCacheHandle(rows, null);
    }

    public boolean hasTensors() {
        return tensors != null;
    }
}

package dev.specdec.job.state;

/**
 * The draft stage's keyed state for one request: which drafter proposes its tokens and what that
 * has achieved. The drafter's own tensors (its KV cache and current depth lists) are not kept here:
 * they are a function of the committed tokens and are rebuilt by re-prefill after a restore
 * ({@link #rebuilds} counts that), or carried in the full-tensor {@link KvCacheHandle}.
 */
public final class DraftProgress {
    public String drafter;
    public int acceptedTokens;
    public long draftNanos;
    public int rebuilds;

    public DraftProgress(String drafter) {
        this.drafter = drafter;
    }

    public DraftProgress copy() {
        DraftProgress c = new DraftProgress(drafter);
        c.acceptedTokens = acceptedTokens;
        c.draftNanos = draftNanos;
        c.rebuilds = rebuilds;
        return c;
    }
}

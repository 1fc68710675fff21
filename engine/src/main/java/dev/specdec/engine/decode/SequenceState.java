package dev.specdec.engine.decode;

import dev.specdec.engine.model.KvCache;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.Finish;
import dev.specdec.engine.request.SamplingParams;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * One request being decoded: its prompt, the tokens generated so far, its KV cache, its stop rules
 * and statistics. Decoders feed tokens through {@link #append}, one at a time, so every decoder
 * stops at exactly the same token for the same output.
 *
 * <p>Cache invariant between steps: the cache holds rows for the prompt and all generated tokens but
 * the last one, which is fed at position {@link #lastPosition()} by the next step.
 */
public final class SequenceState {
    private final DecodeRequest request;
    private final Set<Integer> eosIds;
    private final int contextLength;
    private final Function<int[], String> detokenizer;
    private int[] generated = new int[16];
    private int count;
    private Finish finish;
    private String error;
    private String stopText;
    /** The text of the first {@code decodedCount} generated tokens (tokens are only ever appended). */
    private String decodedText;
    private int decodedCount = -1;
    private KvCache cache;
    private DraftState draftState;
    private final DecodeStats stats = new DecodeStats();
    private final long createdNanos = System.nanoTime();
    private long firstTokenNanos;
    private long finishedNanos;

    public SequenceState(DecodeRequest request, Set<Integer> eosIds, int contextLength,
                         Function<int[], String> detokenizer) {
        this.request = request;
        this.eosIds = eosIds;
        this.contextLength = contextLength;
        this.detokenizer = detokenizer;
    }

    public String id() {
        return request.id();
    }

    public DecodeRequest request() {
        return request;
    }

    /** The base model's cache of this sequence, or null before prefill and after release. */
    public KvCache cache() {
        return cache;
    }

    public void attachCache(KvCache cache) {
        this.cache = cache;
    }

    /** The drafter's state of this sequence, or null (plain decoding, or not yet drafted). */
    public DraftState draftState() {
        return draftState;
    }

    public void attachDraftState(DraftState state) {
        this.draftState = state;
    }

    /** This sequence's counters; decoders add to them as they go. */
    public DecodeStats stats() {
        return stats;
    }

    public long createdNanos() {
        return createdNanos;
    }

    /** When the first token was generated ({@link System#nanoTime()}), 0 before. */
    public long firstTokenNanos() {
        return firstTokenNanos;
    }

    /** When the sequence finished ({@link System#nanoTime()}), 0 before. */
    public long finishedNanos() {
        return finishedNanos;
    }

    public int[] prompt() {
        return request.promptIds();
    }

    public SamplingParams params() {
        return request.params();
    }

    public int generatedCount() {
        return count;
    }

    public int[] generated() {
        return Arrays.copyOf(generated, count);
    }

    /** Prompt followed by the generated tokens. */
    public int[] context() {
        int[] p = request.promptIds();
        int[] c = Arrays.copyOf(p, p.length + count);
        System.arraycopy(generated, 0, c, p.length, count);
        return c;
    }

    /**
     * Sets the generated tokens of a sequence being restored (e.g. from a checkpoint), before its
     * caches are rebuilt with {@link Decoder#restore}. Stop rules are not re-applied: a restored
     * sequence was unfinished when it was saved.
     */
    public void restoreGenerated(int[] tokens) {
        if (count != 0) {
            throw new IllegalStateException("sequence " + id() + " already has tokens");
        }
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a restored sequence needs at least one generated token");
        }
        generated = Arrays.copyOf(tokens, Math.max(16, tokens.length * 2));
        count = tokens.length;
        firstTokenNanos = System.nanoTime();
    }

    public int generatedAt(int i) {
        return generated[i];
    }

    /** The last generated token (the one the next step feeds). */
    public int lastToken() {
        return generated[count - 1];
    }

    /** Absolute position of the last generated token. */
    public int lastPosition() {
        return request.promptIds().length + count - 1;
    }

    /** Absolute position the next generated token will have. */
    public int nextPosition() {
        return request.promptIds().length + count;
    }

    public int totalLength() {
        return request.promptIds().length + count;
    }

    public boolean isFinished() {
        return finish != null;
    }

    public Finish finishReason() {
        return finish;
    }

    public String error() {
        return error;
    }

    /** How many more tokens may still be appended (max_new_tokens and the context both count). */
    public int remainingBudget() {
        return Math.max(0, Math.min(request.params().maxNewTokens() - count, contextLength - totalLength()));
    }

    /**
     * Appends one generated token and applies the stop rules. Returns true if the sequence is now
     * finished (the token is kept: EOS and the token that completes a stop string are part of the
     * output ids; the text leaves them out).
     */
    public boolean append(int token) {
        if (finish != null) {
            throw new IllegalStateException("sequence " + id() + " already finished");
        }
        if (count == generated.length) {
            generated = Arrays.copyOf(generated, count * 2);
        }
        generated[count++] = token;
        if (count == 1) {
            firstTokenNanos = System.nanoTime();
        }
        SamplingParams p = request.params();
        if ((!p.ignoreEos() && eosIds.contains(token)) || p.stopTokenIds().contains(token)) {
            return finish(Finish.STOP);
        }
        if (!p.stopStrings().isEmpty() && detokenizer != null) {
            String text = decoded();
            for (String s : p.stopStrings()) {
                int at = text.indexOf(s);
                if (at >= 0) {
                    stopText = text.substring(0, at);
                    return finish(Finish.STOP);
                }
            }
        }
        if (count >= p.maxNewTokens() || totalLength() >= contextLength) {
            return finish(Finish.LENGTH);
        }
        return false;
    }

    private boolean finish(Finish reason) {
        finish = reason;
        finishedNanos = System.nanoTime();
        return true;
    }

    public void fail(Finish reason, String message) {
        finish = reason;
        error = message;
        finishedNanos = System.nanoTime();
    }

    /** Output text: the decoded tokens, cut before a stop string if one ended the generation. */
    public String text() {
        if (stopText != null) {
            return stopText;
        }
        return detokenizer == null ? "" : decoded();
    }

    /**
     * The generated tokens' text, decoded once per token count: the stop-string check and callers
     * of {@link #text()} (a streaming consumer asks after every step) share one decode.
     */
    private String decoded() {
        if (decodedCount != count) {
            decodedText = detokenizer.apply(generated());
            decodedCount = count;
        }
        return decodedText;
    }

    /**
     * Releases the caches of the given sequences (base KV cache and the drafter's) through
     * {@link KvCachePool#releaseAll}, so the pools keep their live slots contiguous with the fewest moves.
     */
    public static void releaseAll(Collection<SequenceState> seqs) {
        List<KvCache> caches = new ArrayList<>();
        for (SequenceState s : seqs) {
            if (s.cache != null) {
                caches.add(s.cache);
            }
            if (s.draftState != null) {
                caches.addAll(s.draftState.caches());
            }
            s.cache = null;
            s.draftState = null;
        }
        KvCachePool.releaseAll(caches);
    }
}

package dev.specdec.engine.generate;

import dev.specdec.engine.model.KvCache;

import java.util.Arrays;
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
    public final GenerationRequest request;
    private final Set<Integer> eosIds;
    private final int contextLength;
    private final Function<int[], String> detokenizer;
    private int[] generated = new int[16];
    private int count;
    private FinishReason finish;
    private String error;
    private String stopText;
    /** The text of the first {@code decodedCount} generated tokens (tokens are only ever appended). */
    private String decodedText;
    private int decodedCount = -1;
    public KvCache cache;
    /** Drafter-specific state (e.g. the draft module's cache and pending inputs). */
    public Object draftState;
    public final DecodeStats stats = new DecodeStats();
    public final long createdNanos = System.nanoTime();
    public long firstTokenNanos;
    public long finishedNanos;

    public SequenceState(GenerationRequest request, Set<Integer> eosIds, int contextLength,
                         Function<int[], String> detokenizer) {
        this.request = request;
        this.eosIds = eosIds;
        this.contextLength = contextLength;
        this.detokenizer = detokenizer;
    }

    public String id() {
        return request.id();
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

    public FinishReason finishReason() {
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
            return finish(FinishReason.STOP);
        }
        if (!p.stopStrings().isEmpty() && detokenizer != null) {
            String text = decoded();
            for (String s : p.stopStrings()) {
                int at = text.indexOf(s);
                if (at >= 0) {
                    stopText = text.substring(0, at);
                    return finish(FinishReason.STOP);
                }
            }
        }
        if (count >= p.maxNewTokens() || totalLength() >= contextLength) {
            return finish(FinishReason.LENGTH);
        }
        return false;
    }

    private boolean finish(FinishReason reason) {
        finish = reason;
        finishedNanos = System.nanoTime();
        return true;
    }

    public void fail(FinishReason reason, String message) {
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

    /** Releases the KV cache (and whatever the drafter holds). */
    public void releaseCaches() {
        if (cache != null) {
            cache.close();
            cache = null;
        }
        if (draftState instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        draftState = null;
    }
}

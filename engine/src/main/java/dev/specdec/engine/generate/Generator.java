package dev.specdec.engine.generate;

import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.tokenizer.TextTokenizer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs requests to completion with a {@link Decoder}, keeping up to {@code maxBatch} sequences in
 * flight: finished sequences leave and queued ones join between steps (continuous batching).
 * Invalid requests become error results instead of failing the batch.
 */
public final class Generator {
    private final LlamaModel model;
    private final TextTokenizer tokenizer;
    private final Decoder decoder;
    private final int maxBatch;

    public Generator(LlamaModel model, TextTokenizer tokenizer, Decoder decoder, int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("batch size must be at least 1");
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.decoder = decoder;
        this.maxBatch = maxBatch;
    }

    /** End-of-sequence ids of the model (generation_config.json, else config.json). */
    public static Set<Integer> eosIds(LlamaModel model) {
        return new HashSet<>(model.config.eosTokenIds);
    }

    /** Validates a request against the model; throws {@link InvalidRequestException} with the reason. */
    public static void validate(LlamaModel model, GenerationRequest r) {
        validate(model.config, r);
    }

    /** Validates a request against a model's configuration (no weights needed). */
    public static void validate(dev.specdec.engine.model.ModelConfig config, GenerationRequest r) {
        r.params().validate();
        int ctx = config.maxPositions;
        if (r.promptIds().length >= ctx) {
            throw new InvalidRequestException("prompt of " + r.promptIds().length
                    + " tokens does not fit the context of " + ctx + " tokens (at least one new token must fit)");
        }
        for (int id : r.promptIds()) {
            if (id < 0 || id >= config.vocabSize) {
                throw new InvalidRequestException("prompt token id " + id + " is outside the vocabulary of "
                        + config.vocabSize);
            }
        }
    }

    /**
     * Decodes {@code batch} synthetic requests ({@code newTokens} tokens each, prompts of varied
     * length) and discards them. The first calls of a fresh session run several times slower than
     * later ones (the JIT, the allocator's first pages, kernel set-up per shape); a server pays that
     * here, before its first request, instead of during it. A no-op for {@code newTokens <= 0}.
     *
     * @return the time it took, in milliseconds
     */
    public double warmUp(int batch, int newTokens) {
        if (newTokens <= 0 || batch <= 0) {
            return 0;
        }
        long t0 = System.nanoTime();
        int vocab = model.config.vocabSize;
        int longest = Math.max(1, Math.min(64, model.config.maxPositions / 4));
        // Prompt plus new tokens stay within half the context, so a draft tree's padding rows fit too.
        SamplingParams params = SamplingParams.greedy(Math.max(1, Math.min(newTokens, model.config.maxPositions / 4)))
                .withIgnoreEos(true);
        List<SequenceState> synthetic = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            // Lengths spread over [longest/8, longest] so that prefill meets short and long prompts.
            int[] prompt = new int[Math.max(1, longest * (1 + i % 8) / 8)];
            for (int j = 0; j < prompt.length; j++) {
                prompt[j] = Math.floorMod(17 + 31 * i + 7 * j, vocab);
            }
            synthetic.add(newSequence(new GenerationRequest("warm-up-" + i, prompt, params)));
        }
        try {
            decoder.prefill(synthetic);
            List<SequenceState> active = new ArrayList<>(synthetic);
            while (!active.isEmpty()) {
                decoder.step(active);
                active.removeIf(SequenceState::isFinished);
            }
        } finally {
            // Also after a failure: the pool must not keep the synthetic requests' caches. Last slot
            // first, so no cache is moved to fill a hole.
            for (int i = synthetic.size() - 1; i >= 0; i--) {
                decoder.release(synthetic.get(i));
            }
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    public SequenceState newSequence(GenerationRequest r) {
        return new SequenceState(r, eosIds(model), model.config.maxPositions,
                tokenizer == null ? null : tokenizer::decode);
    }

    public List<GenerationResult> run(List<GenerationRequest> requests) {
        return run(requests, r -> { });
    }

    /** Generates all requests; results come back in request order, each also passed to {@code onResult}. */
    public List<GenerationResult> run(List<GenerationRequest> requests, Consumer<GenerationResult> onResult) {
        Map<String, GenerationResult> results = new LinkedHashMap<>();
        requests.forEach(r -> results.put(r.id(), null));
        Deque<SequenceState> queue = new ArrayDeque<>();
        for (GenerationRequest r : requests) {
            try {
                validate(model, r);
                queue.add(newSequence(r));
            } catch (InvalidRequestException e) {
                GenerationResult res = GenerationResult.error(r.id(), r.promptIds().length, e.getMessage());
                results.put(r.id(), res);
                onResult.accept(res);
            }
        }
        List<SequenceState> active = new ArrayList<>();
        while (!queue.isEmpty() || !active.isEmpty()) {
            List<SequenceState> fresh = new ArrayList<>();
            while (active.size() + fresh.size() < maxBatch && !queue.isEmpty()) {
                fresh.add(queue.poll());
            }
            if (!fresh.isEmpty()) {
                decoder.prefill(fresh);
                active.addAll(fresh);
            }
            retireFinished(active, results, onResult);
            if (!active.isEmpty()) {
                decoder.step(active);
                retireFinished(active, results, onResult);
            }
        }
        return new ArrayList<>(results.values());
    }

    private void retireFinished(List<SequenceState> active, Map<String, GenerationResult> results,
                                Consumer<GenerationResult> onResult) {
        for (int i = active.size() - 1; i >= 0; i--) {
            SequenceState s = active.get(i);
            if (s.isFinished()) {
                decoder.release(s);
                active.remove(i);
                GenerationResult r = GenerationResult.of(s);
                results.put(s.id(), r);
                onResult.accept(r);
            }
        }
    }
}

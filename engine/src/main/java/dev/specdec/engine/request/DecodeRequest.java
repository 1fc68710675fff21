package dev.specdec.engine.request;

import dev.specdec.engine.model.ModelConfig;

/** One prompt to complete: already tokenized, with its sampling and stop settings. */
public record DecodeRequest(String id, int[] promptIds, SamplingParams params) {
    public DecodeRequest {
        if (id == null || id.isEmpty()) {
            throw new InvalidRequestException("request id must not be empty");
        }
        if (promptIds == null || promptIds.length == 0) {
            throw new InvalidRequestException("prompt must not be empty");
        }
    }

    /**
     * Checks the request against a model: its sampling values, that every prompt id is in the
     * vocabulary, and that the prompt leaves room for at least one new token in the context (decoding
     * stops at the context's end; the job refuses a request that would, see its RequestCheck). The
     * one check every entry point runs (the engine's commands and the job's validation alike).
     *
     * @throws InvalidRequestException naming the first problem
     */
    public void checkAgainst(ModelConfig config) {
        params.validate();
        int ctx = config.maxPositions;
        if (promptIds.length >= ctx) {
            throw new InvalidRequestException("prompt of " + promptIds.length
                    + " tokens does not fit the context of " + ctx + " tokens (at least one new token must fit)");
        }
        for (int id : promptIds) {
            if (id < 0 || id >= config.vocabSize) {
                throw new InvalidRequestException("prompt token id " + id + " is outside the vocabulary of "
                        + config.vocabSize);
            }
        }
    }
}

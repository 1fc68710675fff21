package dev.specdec.engine.generate;

/** One prompt to complete: already tokenized, with its sampling and stop settings. */
public record GenerationRequest(String id, int[] promptIds, SamplingParams params) {
    public GenerationRequest {
        if (id == null || id.isEmpty()) {
            throw new InvalidRequestException("request id must not be empty");
        }
        if (promptIds == null || promptIds.length == 0) {
            throw new InvalidRequestException("prompt must not be empty");
        }
    }
}

package dev.specdec.job.state;

import dev.specdec.engine.generate.GenerationRequest;
import dev.specdec.engine.generate.SamplingParams;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated request with its prompt already tokenized, as the decode operator receives and keeps
 * it: sampling and stop settings, the decoder to use, where it came from in time, and its deadline.
 * A cancellation is the same record with {@link #cancel} set and no prompt. Immutable.
 *
 * @param receivedMicros when the job first read it (epoch microseconds): the origin of its timings
 * @param deadlineMicros the time after which it is cancelled (epoch microseconds), 0 for none
 */
public record TokenizedRequest(String id, int[] promptIds, int maxNewTokens, double temperature, int topK,
                               double topP, long seed, int[] stopTokenIds, List<String> stopStrings,
                               boolean ignoreEos, String drafter, Map<String, String> metadata,
                               long submitTimeMs, long receivedMicros, long deadlineMicros, boolean cancel) {

    public TokenizedRequest {
        stopStrings = List.copyOf(stopStrings);
        metadata = Map.copyOf(metadata);
    }

    public static TokenizedRequest cancellation(String id, long receivedMicros) {
        return new TokenizedRequest(id, new int[0], 0, 0, 0, 1, 0, new int[0], List.of(), false, "", Map.of(),
                0, receivedMicros, 0, true);
    }

    public SamplingParams samplingParams() {
        Set<Integer> stops = new HashSet<>();
        for (int t : stopTokenIds) {
            stops.add(t);
        }
        return new SamplingParams(maxNewTokens, temperature, topK, topP, seed, stops, stopStrings, ignoreEos);
    }

    /** The engine's view of this request. */
    public GenerationRequest toEngineRequest() {
        return new GenerationRequest(id, promptIds, samplingParams());
    }
}

package dev.specdec.job.state;

import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.SamplingParams;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated request with its prompt already tokenized, as the decode operator receives and keeps
 * it: sampling and stop settings, the decoding method, where it came from in time, and its deadline.
 * A cancellation is the same record with {@link #cancel} set and no prompt. Immutable.
 *
 * @param method the decoding method's wire name ({@link DecodingMethod#wireName()}), default resolved
 */
public record TokenizedRequest(String id, int[] promptIds, SamplingParams params, String method,
                               Map<String, String> metadata, Arrival arrival, boolean cancel) {

    /**
     * @param submitTimeMs   when the client submitted it (its own clock, epoch milliseconds), 0 if unknown
     * @param receivedMicros when the job first read it (epoch microseconds): the origin of its timings
     * @param deadlineMicros the time after which it is cancelled (epoch microseconds), 0 for none
     */
    public record Arrival(long submitTimeMs, long receivedMicros, long deadlineMicros) {
    }

    public TokenizedRequest {
        metadata = Map.copyOf(metadata);
    }

    public static TokenizedRequest cancellation(String id, long receivedMicros) {
        return new TokenizedRequest(id, new int[0], new SamplingParams(0, 0, 0, 1, 0, Set.of(), List.of(), false), "",
                Map.of(), new Arrival(0, receivedMicros, 0), true);
    }

    public long receivedMicros() {
        return arrival.receivedMicros();
    }

    public long deadlineMicros() {
        return arrival.deadlineMicros();
    }

    public DecodingMethod decodingMethod() {
        return DecodingMethod.parse(method);
    }

    /** The engine's view of this request. */
    public DecodeRequest toEngineRequest() {
        return new DecodeRequest(id, promptIds, params);
    }
}

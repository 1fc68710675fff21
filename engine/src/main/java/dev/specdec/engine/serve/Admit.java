package dev.specdec.engine.serve;

import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;

/**
 * A request handed to the scheduler: it waits until the batch has room, then is prefilled.
 *
 * @param deadlineMicros epoch microseconds after which it is cancelled, 0 for none
 */
public record Admit(String id, DecodeRequest request, DecodingMethod method, long deadlineMicros) {
    public static Admit of(DecodeRequest request, DecodingMethod method) {
        return new Admit(request.id(), request, method, 0);
    }
}

package dev.specdec.engine.serve;

import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;

/**
 * A request to resume after a restore: the tokens it had committed and, in full-tensor mode, the
 * snapshot of its caches (null: rebuild them by re-prefill).
 */
public record Resume(String id, DecodeRequest request, DecodingMethod method, int[] tokens, byte[] tensors,
                     long deadlineMicros) {
}

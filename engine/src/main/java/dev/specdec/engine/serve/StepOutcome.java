package dev.specdec.engine.serve;

import java.util.List;

/**
 * The result of one scheduler call.
 *
 * @param updates          one per request the call touched
 * @param busyNanos        time the call spent in the model (0 when it had no model work)
 * @param batchSize        requests decoded by the call's step
 * @param kvUsedBytes      bytes of KV rows in use after the call
 * @param kvAllocatedBytes bytes the KV pool holds
 * @param liveRequests     requests being decoded after the call
 * @param queuedRequests   requests waiting for a batch slot after the call
 */
public record StepOutcome(List<SequenceUpdate> updates, long busyNanos, int batchSize, long kvUsedBytes,
                          long kvAllocatedBytes, int liveRequests, int queuedRequests) {
}

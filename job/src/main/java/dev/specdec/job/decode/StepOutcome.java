package dev.specdec.job.decode;

import java.util.List;

/**
 * The result of one engine call, handed from the engine thread to the task thread.
 *
 * @param updates          one per request the call touched
 * @param busyNanos        time the engine thread spent in the call
 * @param batchSize        requests decoded by the call's step
 * @param kvUsedBytes      bytes of KV rows in use after the call
 * @param kvAllocatedBytes bytes the KV pool holds
 * @param liveRequests     requests being decoded after the call
 * @param queuedRequests   requests handed to the engine that wait for a batch slot
 */
public record StepOutcome(List<SequenceUpdate> updates, long busyNanos, int batchSize, long kvUsedBytes,
                          long kvAllocatedBytes, int liveRequests, int queuedRequests) {
}

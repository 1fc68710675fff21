package dev.specdec.job.state;

/**
 * A request the decode operator accepted: the request, its place in the admission order (queued
 * requests start in this order, also after a restore) and when it was accepted.
 */
public record AdmittedRequest(TokenizedRequest request, long admissionSeq, long admittedMicros) {
}

package dev.specdec.job.decode;

import dev.specdec.engine.serve.Resume;
import dev.specdec.job.state.AdmittedRequest;
import dev.specdec.job.state.KvCacheHandle;
import dev.specdec.job.state.TokenizedRequest;
import dev.specdec.job.state.VerifyProgress;
import org.apache.flink.api.common.state.ValueState;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;

/**
 * After a restore, mails and the engine's memory are gone: every admitted request is found again in
 * keyed state. Requests that had committed tokens are resumed (from their full-tensor snapshot if the
 * checkpoint holds one that matches, else by re-prefill); requests still waiting are queued again in
 * their admission order. Requests a client had cancelled are handed over again and cancelled at once,
 * so that they still end with exactly one (cancelled) result.
 */
final class KeyedRequestRestore {
    /** What to hand the new engine, and where admission numbering goes on. */
    record Plan(List<Resume> resumes, List<AdmittedRequest> requeue, List<String> cancelled, long nextAdmissionSeq) {
        static final Plan EMPTY = new Plan(List.of(), List.of(), List.of(), 0);

        int size() {
            return resumes.size() + requeue.size();
        }
    }

    private KeyedRequestRestore() {
    }

    static Plan plan(List<String> keys, Consumer<String> setKey, ValueState<AdmittedRequest> requests,
                     ValueState<Boolean> cancelRequested, VerifyLedger verify, DraftLedger draft) throws Exception {
        List<Resume> resumes = new ArrayList<>();
        List<AdmittedRequest> requeue = new ArrayList<>();
        List<String> cancelled = new ArrayList<>();
        long next = 0;
        for (String key : keys) {
            setKey.accept(key);
            AdmittedRequest a = requests.value();
            if (a == null) {
                continue;
            }
            next = Math.max(next, a.admissionSeq() + 1);
            if (Boolean.TRUE.equals(cancelRequested.value())) {
                cancelled.add(key);
            }
            VerifyProgress v = verify.progress();
            if (v == null || v.count() == 0) {
                requeue.add(a);
                continue;
            }
            TokenizedRequest r = a.request();
            KvCacheHandle h = verify.cache();
            int expectedRows = r.promptIds().length + v.count() - 1;
            byte[] tensors = h != null && h.hasTensors() && h.rows() == expectedRows ? h.tensors() : null;
            resumes.add(new Resume(key, r.toEngineRequest(), r.decodingMethod(), v.tokens(), tensors, r.deadlineMicros()));
            verify.markRecovered();
            if (tensors == null) {
                draft.markRebuilt();
            }
        }
        requeue.sort(Comparator.comparingLong(AdmittedRequest::admissionSeq));
        return new Plan(resumes, requeue, cancelled, next);
    }
}

package dev.specdec.engine.serve;

import dev.specdec.engine.EngineSession;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.Finish;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Brings restored requests back into an engine: each request's caches are imported from its
 * full-tensor snapshot when it has one (a snapshot that cannot be read falls back), else rebuilt by
 * re-prefilling its committed tokens. Either way the request goes on exactly where it stopped.
 */
final class Resumer {
    private static final Logger LOG = LoggerFactory.getLogger(Resumer.class);

    private Resumer() {
    }

    /** The resumed requests; those that cannot be resumed get a failure update instead. */
    static List<LiveRequest> resume(EngineSession session, Decoders decoders, List<Resume> resumes, boolean streaming,
                                    List<SequenceUpdate> failures) {
        Map<DecodingMethod, List<Resume>> byMethod = new LinkedHashMap<>();
        resumes.forEach(r -> byMethod.computeIfAbsent(r.method(), k -> new ArrayList<>()).add(r));
        List<LiveRequest> resumed = new ArrayList<>();
        byMethod.forEach((method, group) -> {
            Decoder d = decoders.get(method);
            if (d == null) {
                group.forEach(r -> failures.add(SequenceUpdate.failed(r.id(), Finish.ERROR, decoders.error(method))));
                return;
            }
            resumed.addAll(resumeGroup(session, d, group, streaming, failures));
        });
        return resumed;
    }

    private static List<LiveRequest> resumeGroup(EngineSession session, Decoder d, List<Resume> group,
                                                 boolean streaming, List<SequenceUpdate> failures) {
        List<LiveRequest> imported = new ArrayList<>();
        List<byte[]> snapshots = new ArrayList<>();
        List<LiveRequest> reprefill = new ArrayList<>();
        for (Resume r : group) {
            SequenceState s = session.newSequence(r.request());
            s.restoreGenerated(r.tokens());
            LiveRequest l = new LiveRequest(r.id(), r.method(), r.deadlineMicros(), s);
            l.restored(streaming);
            if (r.tensors() != null) {
                imported.add(l);
                snapshots.add(r.tensors());
            } else {
                reprefill.add(l);
            }
        }
        if (!imported.isEmpty()) {
            try {
                d.importCaches(StepRunner.sequences(imported), snapshots);
            } catch (IOException | RuntimeException e) {
                LOG.warn("cache snapshots of {} requests could not be imported ({}); re-prefilling them",
                        imported.size(), e.toString());
                d.release(StepRunner.sequences(imported));
                reprefill.addAll(imported);
                imported.clear();
            }
        }
        try {
            d.restore(StepRunner.sequences(reprefill));
        } catch (RuntimeException e) {
            LOG.error("re-prefill of {} restored requests failed", reprefill.size(), e);
            d.release(StepRunner.sequences(reprefill));
            reprefill.forEach(l -> failures.add(SequenceUpdate.failed(l.id, Finish.ERROR, ErrorText.of("restore failed", e))));
            reprefill.clear();
        }
        LOG.info("resumed {} requests with {}: {} from cache snapshots, {} by re-prefill",
                imported.size() + reprefill.size(), d.method().wireName(), imported.size(), reprefill.size());
        List<LiveRequest> all = new ArrayList<>(imported);
        all.addAll(reprefill);
        return all;
    }
}

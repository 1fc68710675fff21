package dev.specdec.engine.serve;

import dev.specdec.engine.EngineSession;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.decode.SequenceState;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.Finish;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs one decoding step over the scheduler's live requests: one batched step per method, and the
 * recovery when a step fails (each request's caches rebuilt from its committed tokens and stepped
 * alone, so a failure ends only the requests that also fail on their own).
 */
final class StepRunner {
    private static final Logger LOG = LoggerFactory.getLogger(StepRunner.class);

    private final EngineSession session;
    private final Decoders decoders;

    StepRunner(EngineSession session, Decoders decoders) {
        this.session = session;
        this.decoders = decoders;
    }

    /** Steps every unfinished request; returns how many took part. */
    int stepAll(Collection<LiveRequest> live) {
        Map<DecodingMethod, List<LiveRequest>> groups = new LinkedHashMap<>();
        for (LiveRequest l : live) {
            if (!l.seq().isFinished()) {
                groups.computeIfAbsent(l.method, k -> new ArrayList<>()).add(l);
            }
        }
        int batch = 0;
        for (Map.Entry<DecodingMethod, List<LiveRequest>> g : groups.entrySet()) {
            batch += g.getValue().size();
            stepGroup(decoders.get(g.getKey()), g.getValue());
        }
        return batch;
    }

    /**
     * One step for a method's requests. Requests so close to the end of the context that the rows a
     * batched step pads every sequence to would not fit step on their own.
     */
    private void stepGroup(Decoder d, List<LiveRequest> group) {
        int padding = d.maxRowsPerStep();
        int context = session.model().config.maxPositions;
        List<LiveRequest> batched = new ArrayList<>();
        List<LiveRequest> alone = new ArrayList<>();
        for (LiveRequest l : group) {
            (group.size() > 1 && l.seq().totalLength() + padding > context ? alone : batched).add(l);
        }
        if (!batched.isEmpty()) {
            runStep(d, batched);
        }
        for (LiveRequest l : alone) {
            runStep(d, List.of(l));
        }
    }

    private void runStep(Decoder d, List<LiveRequest> ls) {
        try {
            d.step(sequences(ls));
            return;
        } catch (RuntimeException | OutOfMemoryError e) {
            // Native failures (PyTorch's out-of-memory among them) arrive as runtime exceptions; a Java
            // out-of-memory from one step's tensors is survivable too: that step's memory is gone again.
            if (ls.size() == 1) {
                LOG.error("decoding step of request {} failed", ls.get(0).id, e);
                fail(ls.get(0), ErrorText.of("decoding failed", e));
                return;
            }
            LOG.warn("decoding step of {} requests failed ({}); retrying them one by one", ls.size(), e.toString());
        }
        for (LiveRequest l : ls) {
            try {
                rebuild(d, l);
                if (!l.seq().isFinished()) {
                    d.step(List.of(l.seq()));
                }
            } catch (RuntimeException | OutOfMemoryError e) {
                LOG.error("decoding step of request {} failed", l.id, e);
                fail(l, ErrorText.of("decoding failed", e));
            }
        }
    }

    /** Replaces a request's sequence by one rebuilt from its committed (reported) tokens. */
    private void rebuild(Decoder d, LiveRequest l) {
        int[] committed = l.committedTokens();
        d.release(List.of(l.seq()));
        SequenceState fresh = session.newSequence(l.seq().request());
        l.rebuiltAs(fresh);
        if (committed.length == 0) {
            d.prefill(List.of(fresh));
        } else {
            fresh.restoreGenerated(committed);
            d.restore(List.of(fresh));
        }
    }

    private static void fail(LiveRequest l, String message) {
        if (!l.seq().isFinished()) {
            l.seq().fail(Finish.ERROR, message);
        }
    }

    static List<SequenceState> sequences(List<LiveRequest> ls) {
        List<SequenceState> out = new ArrayList<>(ls.size());
        ls.forEach(l -> out.add(l.seq()));
        return out;
    }
}

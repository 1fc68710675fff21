package dev.specdec.job.records;

import dev.specdec.records.Drafter;
import dev.specdec.records.GenerationRequest;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Values for the fields a dataset line leaves out (a plain {@code {"id","prompt"}} line, an MT-bench
 * question, a GSM8K problem): the command line's sampling options. A field the line sets wins.
 */
public record RequestDefaults(int maxNewTokens, double temperature, double topP, int topK, long seed,
                              List<String> stop, boolean ignoreEos) implements Serializable {

    public RequestDefaults {
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    public static RequestDefaults standard() {
        return new RequestDefaults(64, 0.0, 1.0, 0, 0, List.of(), false);
    }

    /** A request builder pre-filled with these defaults. */
    public GenerationRequest.Builder newBuilder(String id) {
        return GenerationRequest.newBuilder()
                .setRequestId(id)
                .setPrompt(null)
                .setMessages(new ArrayList<>())
                .setMaxNewTokens(maxNewTokens)
                .setTemperature(temperature)
                .setTopP(topP)
                .setTopK(topK)
                .setSeed(seed)
                .setStop(new ArrayList<>(stop))
                .setStopTokenIds(new ArrayList<>())
                .setDrafter(Drafter.DEFAULT)
                .setSubmitTimeMs(0L)
                .setIgnoreEos(ignoreEos);
    }
}

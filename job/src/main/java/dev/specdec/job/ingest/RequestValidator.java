package dev.specdec.job.ingest;

import dev.specdec.engine.model.ModelConfig;
import dev.specdec.engine.request.DecodeRequest;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.request.InvalidRequestException;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.engine.serve.WallClock;
import dev.specdec.engine.tokenizer.TextTokenizer;
import dev.specdec.job.decode.Results;
import dev.specdec.job.records.RequestJson;
import dev.specdec.job.state.TokenizedRequest;
import dev.specdec.records.DeadLetter;
import dev.specdec.records.GenerationRequest;
import dev.specdec.records.GenerationResult;
import dev.specdec.records.RequestAction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Turns read records into decodable requests: renders chat messages, tokenizes the prompt (here, in
 * parallel, not on the engine thread) and runs the engine's own check of a request against the model
 * ({@link DecodeRequest#checkAgainst}); it adds only what is the job's: ids, timeouts, the prompt text.
 * A request that fails a check is answered at once with an {@code error} result (side output
 * {@link #ERRORS}); records that carry no readable request go to {@link #DEAD_LETTERS} (and, when
 * their id was readable, also get an error result, so a client waiting for that id hears back).
 * Loads only the tokenizer and {@code config.json}, never the weights.
 */
public final class RequestValidator extends ProcessFunction<Either<DeadLetter, GenerationRequest>, TokenizedRequest> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<GenerationResult> ERRORS =
            new OutputTag<>("invalid-requests", new AvroTypeInfo<>(GenerationResult.class));
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", new AvroTypeInfo<>(DeadLetter.class));

    private final String modelDir;
    private final DecodingMethod defaultMethod;
    private final long defaultTimeoutMillis;
    private transient TextTokenizer tokenizer;
    private transient ModelConfig config;
    private transient Counter invalid;
    private transient Counter deadLetters;

    public RequestValidator(String modelDir, DecodingMethod defaultMethod, long defaultTimeoutMillis) {
        this.modelDir = modelDir;
        this.defaultMethod = defaultMethod;
        this.defaultTimeoutMillis = defaultTimeoutMillis;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        tokenizer = TextTokenizer.load(Path.of(modelDir));
        config = ModelConfig.load(Path.of(modelDir));
        invalid = getRuntimeContext().getMetricGroup().counter("invalidRequests");
        deadLetters = getRuntimeContext().getMetricGroup().counter("deadLetters");
    }

    @Override
    public void processElement(Either<DeadLetter, GenerationRequest> in, Context ctx, Collector<TokenizedRequest> out) {
        long now = WallClock.micros();
        if (in.isLeft()) {
            DeadLetter d = in.left();
            deadLetters.inc();
            ctx.output(DEAD_LETTERS, d);
            if (d.getRequestId() != null && !d.getRequestId().isEmpty()) {
                ctx.output(ERRORS, Results.error(d.getRequestId(), 0, d.getReason(), Map.of(), null, now));
            }
            return;
        }
        GenerationRequest r = in.right();
        String id = r.getRequestId();
        if (id == null || id.isBlank()) {
            deadLetters.inc();
            ctx.output(DEAD_LETTERS, DeadLetters.fromJob(null, "request without a request_id"));
            return;
        }
        if (r.getAction() == RequestAction.CANCEL) {
            out.collect(TokenizedRequest.cancellation(id, now));
            return;
        }
        String drafter = RequestJson.method(r.getDrafter(), defaultMethod).wireName();
        Map<String, String> metadata = r.getMetadata() == null ? Map.of() : new HashMap<>(r.getMetadata());
        int promptTokens = 0;
        try {
            String text = promptText(r);
            SamplingParams params = samplingParams(r);
            params.validate();
            long timeout = r.getTimeoutMs() != null ? r.getTimeoutMs() : defaultTimeoutMillis;
            if (timeout < 0 || (r.getTimeoutMs() != null && timeout == 0)) {
                throw new InvalidRequestException("timeout_ms must be positive, got " + timeout);
            }
            int[] ids = tokenizer.encode(text);
            promptTokens = ids.length;
            if (ids.length == 0) {
                throw new InvalidRequestException("the prompt encodes to no tokens");
            }
            new DecodeRequest(id, ids, params).checkAgainst(config);
            TokenizedRequest.Arrival arrival = new TokenizedRequest.Arrival(r.getSubmitTimeMs(), now,
                    timeout == 0 ? 0 : now + timeout * 1000);
            out.collect(new TokenizedRequest(id, ids, params, drafter, metadata, arrival, false));
        } catch (IllegalArgumentException e) {
            invalid.inc();
            ctx.output(ERRORS, Results.error(id, promptTokens, e.getMessage(), metadata, drafter, now));
        }
    }

    private static String promptText(GenerationRequest r) {
        if (r.getPrompt() != null && !r.getPrompt().isEmpty()) {
            return r.getPrompt();
        }
        if (r.getMessages() != null && !r.getMessages().isEmpty()) {
            return ChatPrompt.render(r.getMessages());
        }
        throw new InvalidRequestException("missing prompt: set prompt or messages");
    }

    private static SamplingParams samplingParams(GenerationRequest r) {
        Set<Integer> stopIds = new HashSet<>(r.getStopTokenIds());
        return new SamplingParams(r.getMaxNewTokens(), r.getTemperature(), r.getTopK(), r.getTopP(), r.getSeed(),
                stopIds, r.getStop(), r.getIgnoreEos());
    }

    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}

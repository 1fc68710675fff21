package dev.specdec.job.ingest;

import dev.specdec.engine.model.ModelConfig;
import dev.specdec.engine.request.DecodingMethod;
import dev.specdec.engine.serve.WallClock;
import dev.specdec.engine.tokenizer.TextTokenizer;
import dev.specdec.job.chat.ChatTemplates;
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
import java.util.Map;

/**
 * Turns read records into decodable requests through {@link RequestCheck} (limits, ids, text,
 * parameters, context; rendering and tokenizing the prompt here, in parallel, not on the engine
 * thread). A request that fails a check is answered at once with an {@code error} result (side
 * output {@link #ERRORS}); records that carry no usable request, or an id that cannot address a
 * result, go to {@link #DEAD_LETTERS} (and, when their id was readable, also get an error result,
 * so a client waiting for that id hears back). Loads only the tokenizer, the chat template and
 * {@code config.json}.
 */
public final class RequestValidator extends ProcessFunction<Either<DeadLetter, GenerationRequest>, TokenizedRequest> {
    private static final long serialVersionUID = 2L;

    public static final OutputTag<GenerationResult> ERRORS =
            new OutputTag<>("invalid-requests", new AvroTypeInfo<>(GenerationResult.class));
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", new AvroTypeInfo<>(DeadLetter.class));

    private final String modelDir;
    /** The text of the job's --chat-template file (it travels in the job graph), or null: the model's own. */
    private final String chatTemplate;
    private final DecodingMethod defaultMethod;
    private final long defaultTimeoutMillis;
    private final RequestLimits limits;
    private transient TextTokenizer tokenizer;
    private transient RequestCheck check;
    private transient Counter invalid;
    private transient Counter deadLetters;

    public RequestValidator(String modelDir, String chatTemplate, DecodingMethod defaultMethod, long defaultTimeoutMillis,
                            RequestLimits limits) {
        this.modelDir = modelDir;
        this.chatTemplate = chatTemplate;
        this.defaultMethod = defaultMethod;
        this.defaultTimeoutMillis = defaultTimeoutMillis;
        this.limits = limits;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        tokenizer = TextTokenizer.load(Path.of(modelDir));
        check = new RequestCheck(tokenizer, ChatTemplates.load(Path.of(modelDir), chatTemplate),
                ModelConfig.load(Path.of(modelDir)), limits, defaultMethod, defaultTimeoutMillis);
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
            if (d.getRequestId() != null && !d.getRequestId().isEmpty() && check.idProblem(d.getRequestId()) == null) {
                ctx.output(ERRORS, Results.error(d.getRequestId(), 0, d.getReason(), Map.of(), null, now));
            }
            return;
        }
        GenerationRequest r = in.right();
        String id = r.getRequestId();
        String idProblem = check.idProblem(id);
        if (idProblem != null) {
            deadLetters.inc();
            ctx.output(DEAD_LETTERS, DeadLetters.fromJob(id, idProblem));
            return;
        }
        if (r.getAction() == RequestAction.CANCEL) {
            out.collect(TokenizedRequest.cancellation(id, now));
            return;
        }
        try {
            out.collect(check.apply(r, now));
        } catch (IllegalArgumentException e) {
            invalid.inc();
            Map<String, String> metadata = r.getMetadata() == null ? Map.of() : new HashMap<>(r.getMetadata());
            // The metadata is echoed only when it is within its limits: an error result must stay small.
            boolean echo = metadata.size() <= limits.metadataEntries()
                    && metadata.entrySet().stream().mapToLong(x -> RequestLimits.utf8(x.getKey()) + RequestLimits.utf8(x.getValue()))
                    .sum() <= limits.metadataBytes();
            ctx.output(ERRORS, Results.error(id, 0, e.getMessage(), echo ? metadata : Map.of(),
                    RequestJson.method(r.getDrafter(), defaultMethod).wireName(), now));
        }
    }

    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}

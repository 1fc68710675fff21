package dev.specdec.job.gateway;

import dev.specdec.records.GenerationResult;
import dev.specdec.records.TokenChunk;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * A call made without {@code stream}: chunks only show the job is alive; the committed result
 * becomes the one JSON answer (or an OpenAI error body when the job refused the request).
 */
final class BufferedAnswer extends Answer {
    BufferedAnswer(OpenAiCall call, Response response, Callback callback) {
        super(call, response, callback);
    }

    @Override
    void onChunk(TokenChunk chunk) {
        heardFromJob();
    }

    @Override
    void onResult(GenerationResult result) {
        if (!claimEnd()) {
            return;
        }
        if (isCompletion(result)) {
            writeJson(response, callback, 200, OpenAiJson.completion(call, result));
        } else {
            OpenAiError e = errorOf(result);
            writeJson(response, callback, e.status(), e.body());
        }
    }

    @Override
    void onJobSilent(OpenAiError error) {
        if (claimEnd()) {
            writeJson(response, callback, error.status(), error.body());
        }
    }
}

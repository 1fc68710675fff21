package dev.specdec.job.decode;

import dev.specdec.job.state.TokenizedRequest;
import dev.specdec.records.GenerationResult;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/**
 * Creates {@link SpeculativeDecodeOperator}s with their mailbox executor (the operator yields to it
 * and receives engine outcomes through it). Only the settings travel in the job graph; each
 * operator loads the model from the settings' path when it opens.
 */
public final class SpeculativeDecodeOperatorFactory extends AbstractStreamOperatorFactory<GenerationResult>
        implements OneInputStreamOperatorFactory<TokenizedRequest, GenerationResult> {
    private static final long serialVersionUID = 1L;

    private final DecodeSettings settings;

    public SpeculativeDecodeOperatorFactory(DecodeSettings settings) {
        this.settings = settings;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<GenerationResult>> T createStreamOperator(
            StreamOperatorParameters<GenerationResult> parameters) {
        return (T) new SpeculativeDecodeOperator(parameters, settings);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return SpeculativeDecodeOperator.class;
    }
}

package dev.specdec.job.chat;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.expression.ExpressionStrategy;
import com.hubspot.jinjava.mode.ExecutionMode;
import com.hubspot.jinjava.tree.output.RenderedOutputNode;
import com.hubspot.jinjava.tree.parse.ExpressionToken;

/**
 * Writes what a {@code {{ expression }}} evaluates to as Python's Jinja2 writes it:
 * {@code True}/{@code False}, floats, lists and dicts in Python's form (see {@link PythonRepr}).
 * Installed as Jinjava's execution mode, which sets the strategy for every expression of a render.
 * A None prints as nothing: Jinjava cannot tell it from an undefined variable, which Jinja2 prints
 * as nothing, and templates print {@code {{ bos_token }}} where a model may define none.
 */
final class PythonOutput implements ExecutionMode, ExpressionStrategy {
    static final PythonOutput INSTANCE = new PythonOutput();
    private static final long serialVersionUID = 1L;

    private PythonOutput() {
    }

    @Override
    public void prepareContext(Context context) {
        context.setExpressionStrategy(this);
    }

    @Override
    public RenderedOutputNode interpretOutput(ExpressionToken token, JinjavaInterpreter interpreter) {
        Object value = interpreter.resolveELExpression(token.getExpr(), token.getLineNumber());
        return new RenderedOutputNode(value == null ? "" : PythonRepr.str(value));
    }
}

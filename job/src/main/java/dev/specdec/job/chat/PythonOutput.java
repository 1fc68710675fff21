package dev.specdec.job.chat;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.expression.ExpressionStrategy;
import com.hubspot.jinjava.mode.ExecutionMode;
import com.hubspot.jinjava.tree.output.RenderedOutputNode;
import com.hubspot.jinjava.tree.parse.ExpressionToken;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes what a {@code {{ expression }}} evaluates to as Python's Jinja2 writes it:
 * {@code True}/{@code False}, floats, lists and dicts in Python's form (see {@link PythonRepr}).
 * Installed as Jinjava's execution mode, which sets the strategy for every expression of a render.
 * Jinjava evaluates both None and an undefined name to null, which Jinja2 prints as "None" and as
 * nothing: {@link #isNone} tells them apart for the forms templates print ({@code none},
 * {@code name}, {@code a.b}, {@code a['b']}); any other null prints as nothing, and so does a
 * variable set to none ({@code {% set x = none %}} leaves no key in Jinjava's context).
 */
final class PythonOutput implements ExecutionMode, ExpressionStrategy {
    static final PythonOutput INSTANCE = new PythonOutput();
    private static final long serialVersionUID = 1L;
    private static final Pattern NONE = Pattern.compile("\\s*(?:none|None)\\s*");
    private static final Pattern NAME = Pattern.compile("\\s*([A-Za-z_]\\w*)\\s*");
    private static final Pattern MEMBER = Pattern.compile("(.+?)(?:\\.([A-Za-z_]\\w*)|\\[\\s*(['\"])([^'\"]*)\\3\\s*])\\s*");

    private PythonOutput() {
    }

    @Override
    public void prepareContext(Context context) {
        context.setExpressionStrategy(this);
    }

    @Override
    public RenderedOutputNode interpretOutput(ExpressionToken token, JinjavaInterpreter interpreter) {
        Object value = interpreter.resolveELExpression(token.getExpr(), token.getLineNumber());
        if (value == null) {
            return new RenderedOutputNode(isNone(token, interpreter) ? "None" : "");
        }
        return new RenderedOutputNode(PythonRepr.str(value));
    }

    /** Whether the expression, evaluated to null, is a defined None rather than an undefined value. */
    private static boolean isNone(ExpressionToken token, JinjavaInterpreter interpreter) {
        String expr = token.getExpr();
        if (NONE.matcher(expr).matches()) {
            return true;
        }
        Matcher name = NAME.matcher(expr);
        if (name.matches()) {
            return interpreter.getContext().containsKey(name.group(1));
        }
        Matcher member = MEMBER.matcher(expr);
        if (member.matches()) {
            Object base = interpreter.resolveELExpression(member.group(1), token.getLineNumber());
            String key = member.group(2) != null ? member.group(2) : member.group(4);
            return base instanceof Map<?, ?> map && map.containsKey(key);
        }
        return false;
    }
}

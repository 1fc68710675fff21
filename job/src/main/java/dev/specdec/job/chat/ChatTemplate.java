package dev.specdec.job.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.specdec.engine.request.InvalidRequestException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's chat template, rendered with Jinjava as transformers' {@code apply_chat_template}
 * renders it with Python's Jinja2: blocks trimmed and left-stripped, {@code raise_exception} and
 * {@code strftime_now} defined, Python's {@code trim} and {@code tojson}, the special tokens of
 * {@code tokenizer_config.json} as variables ({@code bos_token}, {@code eos_token}, ...), and
 * {@code add_generation_prompt} true, so the text ends where the assistant's answer begins.
 * Python string methods ({@code .strip()}, {@code .split()}, {@code .startswith()}, ...) are
 * answered by {@link PythonMethods}, values print as Python prints them ({@link PythonOutput}), and
 * a newline at the template's end is dropped as Jinja2 drops it.
 * A template that refuses the conversation, or fails, makes the request invalid with its reason.
 */
public final class ChatTemplate {
    /** Rendered text beyond this is refused (a template looping over its own output, say). */
    private static final long MAX_OUTPUT_CHARS = 8L << 20;

    /** The template as Jinjava is given it. */
    private final String source;
    private final Map<String, String> specialTokens;
    private final Jinjava jinjava;

    /**
     * @param source        the template text
     * @param specialTokens variables such as {@code bos_token} to their token text
     */
    public ChatTemplate(String source, Map<String, String> specialTokens) {
        // Python's Jinja2 drops one newline at the very end of a template (keep_trailing_newline
        // off); Jinjava keeps it, and a published template (Mistral's) ends with one.
        String text = source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        this.source = text;
        this.specialTokens = Map.copyOf(specialTokens);
        this.jinjava = environment();
    }

    private static Jinjava environment() {
        Jinjava j = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withElResolver(PythonMethods.ahead(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY))
                .withExecutionMode(PythonOutput.INSTANCE)
                // Jinjava's switches towards Python Jinja2: {{- x -}} trims as {%- -%} does (Mistral's
                // template needs it), a loop over a dict gives its keys, lists and dicts print as in
                // Python, Python's operator precedence.
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withIterateOverMapKeys(true)
                        .withUsePyishObjectMapper(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withEvaluateMapKeys(true)
                        .withKeepNullableLoopValues(true)
                        .withAllowAdjacentTextNodes(true)
                        .build())
                .build());
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                TemplateFunctions.class, "raiseException", Object.class));
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                TemplateFunctions.class, "strftimeNow", String.class));
        j.getGlobalContext().registerFilter(new PythonFilters.Trim());
        j.getGlobalContext().registerFilter(new PythonFilters.ToJson());
        return j;
    }

    /**
     * The prompt text of {@code messages}, each a role and its content.
     *
     * @throws InvalidRequestException when the template raises or cannot be rendered
     */
    public String render(List<Message> messages) {
        Map<String, Object> variables = new HashMap<>(specialTokens);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Message m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            list.add(map);
        }
        variables.put("messages", list);
        // Jinja2 sees its globals as defined variables; Llama 3.1's template asks "strftime_now is
        // defined" before it writes today's date. Jinjava's functions are no variables: add markers.
        variables.put("strftime_now", "<function strftime_now>");
        variables.put("raise_exception", "<function raise_exception>");
        variables.put("add_generation_prompt", true);
        TemplateFunctions.clear();
        try {
            RenderResult result;
            try {
                result = jinjava.renderForResult(source, variables);
            } catch (RuntimeException e) {
                // Whatever a template does wrong (its output over the bound, say) fails this request only.
                throw new InvalidRequestException("the model's chat template could not be rendered: "
                        + e.getClass().getSimpleName());
            }
            String raised = TemplateFunctions.raised();
            if (raised != null) {
                throw new InvalidRequestException("the chat template refused the messages: " + raised);
            }
            for (TemplateError e : result.getErrors()) {
                if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                    throw new InvalidRequestException("the model's chat template could not be rendered: " + e.getMessage());
                }
            }
            return result.getOutput();
        } finally {
            TemplateFunctions.clear();
        }
    }

    /** One chat message as the template sees it. */
    public record Message(String role, String content) {
    }
}

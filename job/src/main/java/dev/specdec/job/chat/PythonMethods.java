package dev.specdec.job.chat;

import com.hubspot.jinjava.el.ext.NamedParameter;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Answers a template's method calls on strings as Python does ({@code text.split('\n')},
 * {@code role.startswith('tool')}, {@code content.strip(' .')}). Jinjava would call the Java
 * method of that name, which reads a regular expression ({@code split}), strips other spaces
 * ({@code strip}) or does not exist ({@code startswith}, {@code title}). Placed ahead of Jinjava's
 * own resolver; any other call, and any call on a value that is not a string, goes on to it.
 */
final class PythonMethods extends ELResolver {
    private PythonMethods() {
    }

    /** Jinjava's resolver with this one consulted first. */
    static ELResolver ahead(ELResolver jinjavaResolver) {
        CompositeELResolver composite = new CompositeELResolver();
        composite.add(new PythonMethods());
        composite.add(jinjavaResolver);
        return composite;
    }

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || method == null) {
            return null;
        }
        List<Object> args = positional(params);
        Object result = call(s, method.toString(), args);
        if (result != null) {
            context.setPropertyResolved(true);
        }
        return result;
    }

    /** The result of {@code s.name(args)}, or null when it is no Python method bridged here. */
    private static Object call(String s, String name, List<Object> args) {
        return switch (name) {
            case "startswith" -> args.size() == 1 ? PythonStrings.startsWith(s, args.get(0)) : null;
            case "endswith" -> args.size() == 1 ? PythonStrings.endsWith(s, args.get(0)) : null;
            case "strip" -> PythonStrings.strip(s, text(args, 0), true, true);
            case "lstrip" -> PythonStrings.strip(s, text(args, 0), true, false);
            case "rstrip" -> PythonStrings.strip(s, text(args, 0), false, true);
            case "split" -> PythonStrings.split(s, text(args, 0), number(args, 1));
            case "replace" -> args.size() >= 2
                    ? PythonStrings.replace(s, String.valueOf(args.get(0)), String.valueOf(args.get(1)), number(args, 2))
                    : null;
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> PythonStrings.title(s);
            case "capitalize" -> PythonStrings.capitalize(s);
            case "join" -> args.size() == 1 && args.get(0) instanceof Collection<?> c ? PythonStrings.join(s, c) : null;
            default -> null;
        };
    }

    /** The call's positional arguments; Jinjava passes keyword ones as NamedParameters, not bridged. */
    private static List<Object> positional(Object[] params) {
        List<Object> args = new ArrayList<>();
        if (params != null) {
            for (Object p : params) {
                if (!(p instanceof NamedParameter)) {
                    args.add(p);
                }
            }
        }
        return args;
    }

    /** Argument {@code i} as text; null when absent or None (Python's "whitespace" default). */
    private static String text(List<Object> args, int i) {
        return i < args.size() && args.get(i) != null ? args.get(i).toString() : null;
    }

    /** Argument {@code i} as a count; -1 (Python's "no limit") when absent. */
    private static long number(List<Object> args, int i) {
        return i < args.size() && args.get(i) instanceof Number n ? n.longValue() : -1;
    }

    // The resolver answers method calls only; property look-ups go on to Jinjava's resolver.

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // Not resolved here: Jinjava's resolver sets values.
    }
}

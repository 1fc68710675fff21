package dev.specdec.deploy;

import org.snakeyaml.engine.v2.api.ConstructNode;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.schema.CoreSchema;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reading the deployment files the way their consumers do: YAML (with Docker Compose's {@code !reset}
 * and {@code !override} tags), Compose's merge of an override file, the Flink image entrypoint's
 * {@code FLINK_PROPERTIES} rules, the apache/kafka image's {@code KAFKA_*} variables, Dockerfile
 * instructions and {@code .dockerignore} patterns.
 */
final class DeployFiles {
    private DeployFiles() {
    }

    /** A value carrying a Compose merge tag ({@code !reset} or {@code !override}). */
    record Tagged(String tag, Object value) {
    }

    // ------------------------------------------------------------------ files

    /** The repository root: the first folder upwards from the working directory that has {@code engine/}. */
    static Path projectRoot() {
        String prop = System.getProperty("specdec.projectRoot");
        Path start = (prop != null ? Paths.get(prop) : Paths.get("")).toAbsolutePath();
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("engine"))) {
                return p;
            }
        }
        throw new IllegalStateException("no folder with engine/ above " + start);
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ YAML

    private static LoadSettings settings(String label) {
        ConstructNode reset = node -> new Tagged("!reset", plain(node));
        ConstructNode override = node -> new Tagged("!override", plain(node));
        return LoadSettings.builder()
                .setLabel(label)
                .setSchema(new CoreSchema())
                .setAllowDuplicateKeys(false)
                .setTagConstructors(Map.of(new Tag("!reset"), reset, new Tag("!override"), override))
                .build();
    }

    /** The value of a tagged node, as plain strings, lists and maps. */
    private static Object plain(Node node) {
        if (node instanceof ScalarNode s) {
            return s.getValue();
        }
        if (node instanceof SequenceNode s) {
            List<Object> out = new ArrayList<>();
            for (Node n : s.getValue()) {
                out.add(plain(n));
            }
            return out;
        }
        Map<Object, Object> out = new LinkedHashMap<>();
        for (NodeTuple t : ((MappingNode) node).getValue()) {
            out.put(plain(t.getKeyNode()), plain(t.getValueNode()));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> yaml(Path file) {
        Object doc = new Load(settings(file.toString())).loadFromString(read(file));
        if (!(doc instanceof Map)) {
            throw new AssertionError(file + " is not a YAML mapping");
        }
        return (Map<String, Object>) doc;
    }

    /** Every document of a multi-document YAML file (empty documents skipped). */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> yamlDocuments(Path file) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object doc : new Load(settings(file.toString())).loadAllFromString(read(file))) {
            if (doc == null) {
                continue;
            }
            if (!(doc instanceof Map)) {
                throw new AssertionError(file + " has a document that is not a mapping");
            }
            out.add((Map<String, Object>) doc);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o, String what) {
        if (!(o instanceof Map)) {
            throw new AssertionError(what + " is not a mapping: " + o);
        }
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o, String what) {
        if (!(o instanceof List)) {
            throw new AssertionError(what + " is not a list: " + o);
        }
        return (List<Object>) o;
    }

    /** The value at a path of keys, or null. */
    static Object at(Object root, String... keys) {
        Object cur = root;
        for (String k : keys) {
            if (!(cur instanceof Map<?, ?> m)) {
                return null;
            }
            cur = m.get(k);
        }
        return cur;
    }

    static List<String> strings(Object o, String what) {
        List<String> out = new ArrayList<>();
        for (Object e : list(o, what)) {
            if (!(e instanceof String s)) {
                throw new AssertionError(what + ": every entry must be a (quoted) string, got " + e);
            }
            out.add(s);
        }
        return out;
    }

    // ------------------------------------------------------------------ Docker Compose

    /**
     * Compose's merge of an override file (compose spec, "Merge"): mappings merge key by key, sequences
     * append, {@code command}, {@code entrypoint} and {@code healthcheck.test} are replaced, {@code !reset}
     * removes a value and {@code !override} replaces it.
     */
    static Object merge(Object base, Object over, String key) {
        if (over instanceof Tagged t) {
            return t.tag().equals("!reset") ? null : t.value();
        }
        if (base == null || key.equals("command") || key.equals("entrypoint") || key.equals("test")) {
            return over;
        }
        if (base instanceof Map<?, ?> b && over instanceof Map<?, ?> o) {
            Map<Object, Object> out = new LinkedHashMap<>(b);
            for (Map.Entry<?, ?> e : o.entrySet()) {
                Object merged = merge(b.get(e.getKey()), e.getValue(), String.valueOf(e.getKey()));
                if (merged == null) {
                    out.remove(e.getKey());
                } else {
                    out.put(e.getKey(), merged);
                }
            }
            return out;
        }
        if (base instanceof List<?> b && over instanceof List<?> o) {
            List<Object> out = new ArrayList<>(b);
            out.addAll(o);
            return out;
        }
        return over;
    }

    /** A service's environment as name to value; every value must be a string (Compose wants booleans quoted). */
    static Map<String, String> environment(Map<String, Object> service, String name) {
        Object env = service.get("environment");
        Map<String, String> out = new LinkedHashMap<>();
        if (env == null) {
            return out;
        }
        if (env instanceof List<?> l) {
            for (Object e : l) {
                String s = String.valueOf(e);
                int i = s.indexOf('=');
                out.put(i < 0 ? s : s.substring(0, i), i < 0 ? null : s.substring(i + 1));
            }
            return out;
        }
        for (Map.Entry<String, Object> e : map(env, name + ".environment").entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new AssertionError(name + ": environment " + e.getKey() + " must be a quoted string, got "
                        + e.getValue());
            }
            out.put(e.getKey(), s);
        }
        return out;
    }

    /** Kubernetes container env (list of name/value) as a map. */
    static Map<String, String> containerEnv(Map<String, Object> container) {
        Map<String, String> out = new LinkedHashMap<>();
        Object env = container.get("env");
        if (env == null) {
            return out;
        }
        for (Object e : list(env, "env")) {
            Map<String, Object> m = map(e, "env entry");
            Object v = m.get("value");
            if (v != null && !(v instanceof String)) {
                throw new AssertionError("env " + m.get("name") + " must be a quoted string, got " + v);
            }
            out.put((String) m.get("name"), (String) v);
        }
        return out;
    }

    /**
     * {@code FLINK_PROPERTIES} read like the Flink image's docker-entrypoint.sh does: every line with all
     * white space removed, split at the first ':'. Lines it would mangle are errors here: comments (it
     * passes them on as keys), quotes (kept verbatim), white space inside a value, duplicate keys.
     */
    static Map<String, String> flinkProperties(String block, String where) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : block.split("\n")) {
            String stripped = line.replaceAll("\\s", "");
            if (stripped.isEmpty()) {
                continue;
            }
            String t = line.trim();
            if (t.startsWith("#")) {
                throw new AssertionError(where + ": comment line in FLINK_PROPERTIES (the entrypoint turns it into a key): " + t);
            }
            if (t.contains("\"") || t.contains("'")) {
                throw new AssertionError(where + ": quotes in FLINK_PROPERTIES are kept verbatim: " + t);
            }
            if (!t.matches("[A-Za-z0-9._\\-]+:\\s*\\S+")) {
                throw new AssertionError(where + ": FLINK_PROPERTIES line must be `key: value` without spaces in the value: " + t);
            }
            int i = stripped.indexOf(':');
            String key = stripped.substring(0, i);
            if (out.put(key, stripped.substring(i + 1)) != null) {
                throw new AssertionError(where + ": duplicate key " + key);
            }
        }
        return out;
    }

    /**
     * The broker property for an apache/kafka image variable: drop KAFKA_, '___' is '-', '__' is '_',
     * '_' is '.', lower case (the image's documented rules).
     */
    static String kafkaProperty(String env) {
        String s = env.substring("KAFKA_".length())
                .replace("___", "\u0001").replace("__", "\u0002").replace('_', '.')
                .replace('\u0001', '-').replace('\u0002', '_');
        return s.toLowerCase(java.util.Locale.ROOT);
    }

    // ------------------------------------------------------------------ shell-ish text

    /** Splits a command line on white space, honouring single and double quotes. */
    static List<String> shellWords(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    cur.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    out.add(cur.toString());
                    cur.setLength(0);
                    inWord = false;
                }
            } else {
                cur.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            out.add(cur.toString());
        }
        return out;
    }

    /** Topic name to the bootstrap server of each {@code kafka-topics.sh --create} line of a script. */
    static Map<String, String> createdTopics(String script) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : script.split("\n")) {
            List<String> w = shellWords(line.trim());
            if (w.isEmpty() || !w.get(0).endsWith("kafka-topics.sh") || !w.contains("--create")) {
                continue;
            }
            out.put(w.get(w.indexOf("--topic") + 1), w.get(w.indexOf("--bootstrap-server") + 1));
        }
        return out;
    }

    // ------------------------------------------------------------------ Dockerfile

    /** One instruction of a Dockerfile: keyword, arguments (continuations joined) and its stage. */
    record Instruction(String keyword, String args, String stage, int stageIndex) {
    }

    static List<Instruction> dockerfile(Path file) {
        List<Instruction> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        String stage = null;
        int stageIndex = -1;
        for (String raw : read(file).split("\n")) {
            String line = raw.strip();
            if (cur.length() == 0 && (line.isEmpty() || line.startsWith("#"))) {
                continue;
            }
            if (cur.length() > 0 && line.startsWith("#")) {
                continue;
            }
            if (line.endsWith("\\")) {
                cur.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            cur.append(line);
            String full = cur.toString().strip();
            cur.setLength(0);
            int sp = full.indexOf(' ');
            String kw = (sp < 0 ? full : full.substring(0, sp)).toUpperCase(java.util.Locale.ROOT);
            String args = sp < 0 ? "" : full.substring(sp + 1).strip();
            if (kw.equals("FROM")) {
                stageIndex++;
                Matcher m = Pattern.compile("(?i)\\S+\\s+AS\\s+(\\S+)").matcher(args);
                stage = m.matches() ? m.group(1) : null;
            }
            out.add(new Instruction(kw, args, stage, stageIndex));
        }
        return out;
    }

    /** KEY=VALUE pairs of ENV instructions (quotes removed). */
    static Map<String, String> envPairs(List<Instruction> instructions) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S*)").matcher("");
        for (Instruction i : instructions) {
            if (!i.keyword().equals("ENV")) {
                continue;
            }
            m.reset(i.args());
            while (m.find()) {
                out.put(m.group(1), m.group(2).replace("\"", ""));
            }
        }
        return out;
    }

    /** Whether a path of the build context is left out by .dockerignore patterns (last match wins, parents count). */
    static boolean dockerIgnored(List<String> patterns, String path) {
        boolean excluded = false;
        for (String raw : patterns) {
            String p = raw.trim();
            if (p.isEmpty() || p.startsWith("#")) {
                continue;
            }
            boolean negated = p.startsWith("!");
            if (negated) {
                p = p.substring(1).trim();
            }
            while (p.startsWith("/")) {
                p = p.substring(1);
            }
            Pattern re = Pattern.compile(globToRegex(p));
            String[] parts = path.split("/");
            StringBuilder prefix = new StringBuilder();
            boolean matched = false;
            for (String part : parts) {
                if (prefix.length() > 0) {
                    prefix.append('/');
                }
                prefix.append(part);
                if (re.matcher(prefix).matches()) {
                    matched = true;
                    break;
                }
            }
            if (matched) {
                excluded = !negated;
            }
        }
        return excluded;
    }

    private static String globToRegex(String glob) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*') {
                if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                    i++;
                    if (i + 1 < glob.length() && glob.charAt(i + 1) == '/') {
                        i++;
                        sb.append("(?:.*/)?");     // "**/": any number of folders, including none
                    } else {
                        sb.append(".*");
                    }
                } else {
                    sb.append("[^/]*");
                }
            } else if (c == '?') {
                sb.append("[^/]");
            } else {
                sb.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return sb.toString();
    }

    /** A property of the root pom.xml ({@code <name>value</name>} inside {@code <properties>}). */
    static String pomProperty(Path root, String name) {
        String pom = read(root.resolve("pom.xml"));
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</" + Pattern.quote(name) + ">").matcher(pom);
        if (!m.find()) {
            throw new AssertionError("pom.xml has no property " + name);
        }
        return m.group(1).trim();
    }
}

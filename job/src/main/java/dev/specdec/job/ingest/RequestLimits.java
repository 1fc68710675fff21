package dev.specdec.job.ingest;

import dev.specdec.engine.request.InvalidRequestException;
import dev.specdec.records.ChatMessage;
import dev.specdec.records.GenerationRequest;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Bounds on what one request may hold, so that no record, however large or strange, can take the
 * job down or slow every other request: the bytes of a record, of its prompt, its id, its
 * metadata; how many chat messages and stop strings it has and how long those are. Each has a
 * default and a name for {@code --request-limit NAME=VALUE}. The record size is checked before
 * decoding; the rest when a decoded request is validated.
 */
public record RequestLimits(int recordBytes, int promptBytes, int idBytes, int messages, int stopStrings,
                            int stopLength, int metadataEntries, int metadataBytes) implements Serializable {

    public static final RequestLimits DEFAULTS = new RequestLimits(1 << 20, 256 << 10, 256, 256, 16, 256, 64, 16 << 10);

    /** The names of {@code --request-limit}, in record order. */
    public static final List<String> NAMES = List.of("record-bytes", "prompt-bytes", "id-bytes", "messages",
            "stop-strings", "stop-length", "metadata-entries", "metadata-bytes");

    public RequestLimits {
        for (int v : new int[] {recordBytes, promptBytes, idBytes, messages, stopStrings, stopLength, metadataEntries,
                metadataBytes}) {
            if (v < 1) {
                throw new IllegalArgumentException("request limits must be positive");
            }
        }
    }

    /** This with one limit changed, by its {@link #NAMES name}. */
    public RequestLimits with(String name, int value) {
        Map<String, Integer> m = asMap();
        if (!m.containsKey(name)) {
            throw new IllegalArgumentException("unknown request limit '" + name + "' (one of " + String.join(", ", NAMES) + ")");
        }
        m.put(name, value);
        return new RequestLimits(m.get("record-bytes"), m.get("prompt-bytes"), m.get("id-bytes"), m.get("messages"),
                m.get("stop-strings"), m.get("stop-length"), m.get("metadata-entries"), m.get("metadata-bytes"));
    }

    /** The defaults changed by {@code NAME=VALUE} settings (null or empty: the defaults). */
    public static RequestLimits parse(List<String> settings) {
        RequestLimits l = DEFAULTS;
        if (settings == null) {
            return l;
        }
        for (String s : settings) {
            int eq = s.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("--request-limit takes NAME=VALUE, got '" + s + "'");
            }
            try {
                l = l.with(s.substring(0, eq).trim().toLowerCase(Locale.ROOT), Integer.parseInt(s.substring(eq + 1).trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--request-limit " + s + ": the value must be a whole number");
            }
        }
        return l;
    }

    public Map<String, Integer> asMap() {
        Map<String, Integer> m = new LinkedHashMap<>();
        int[] v = {recordBytes, promptBytes, idBytes, messages, stopStrings, stopLength, metadataEntries, metadataBytes};
        for (int i = 0; i < v.length; i++) {
            m.put(NAMES.get(i), v[i]);
        }
        return m;
    }

    /** Checks everything but the record size; the message names the limit and how to change it. */
    public void check(GenerationRequest r) {
        if (r.getPrompt() != null) {
            require(utf8(r.getPrompt()), promptBytes, "prompt-bytes", "the prompt's size in bytes");
        }
        List<ChatMessage> msgs = r.getMessages();
        if (msgs != null) {
            require(msgs.size(), messages, "messages", "the number of chat messages");
            long total = 0;
            for (ChatMessage m : msgs) {
                total += utf8(m.getContent()) + utf8(m.getRole());
            }
            require(total, promptBytes, "prompt-bytes", "the chat messages' size in bytes");
        }
        require(r.getStop().size(), stopStrings, "stop-strings", "the number of stop strings");
        for (CharSequence s : r.getStop()) {
            require(s.length(), stopLength, "stop-length", "the length of a stop string");
        }
        Map<String, String> meta = r.getMetadata();
        if (meta != null) {
            require(meta.size(), metadataEntries, "metadata-entries", "the number of metadata entries");
            long bytes = 0;
            for (Map.Entry<String, String> e : meta.entrySet()) {
                bytes += utf8(e.getKey()) + utf8(e.getValue());
            }
            require(bytes, metadataBytes, "metadata-bytes", "the metadata's size in bytes");
        }
    }

    /** Fails with "WHAT is N, over the limit of L (--request-limit NAME=N raises it)" when N > L. */
    static void require(long value, int limit, String name, String what) {
        if (value > limit) {
            throw new InvalidRequestException(what + " is " + value + ", over the limit of " + limit
                    + " (--request-limit " + name + "=N raises it)");
        }
    }

    static long utf8(CharSequence s) {
        return s == null ? 0 : s.toString().getBytes(StandardCharsets.UTF_8).length;
    }
}

package dev.specdec.engine.serve;

import dev.specdec.engine.EngineSession;
import dev.specdec.engine.decode.Decoder;
import dev.specdec.engine.request.DecodingMethod;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;

/**
 * The scheduler's decoders, one per method, loaded on first use from the session (or one given
 * decoder). A drafter that cannot be loaded is remembered with its reason, so the requests that
 * ask for it fail with that reason and the others go on.
 */
final class Decoders implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Decoders.class);

    private final EngineSession session;
    private final ServeOptions options;
    private final boolean owned;
    private final Map<DecodingMethod, Decoder> loaded = new EnumMap<>(DecodingMethod.class);
    private final Map<DecodingMethod, String> errors = new EnumMap<>(DecodingMethod.class);

    /** Decoders loaded from the session on demand, closed with this object. */
    Decoders(EngineSession session, ServeOptions options) {
        this.session = session;
        this.options = options;
        this.owned = true;
    }

    /** Only the given decoder, which its caller keeps and closes. */
    Decoders(Decoder only) {
        this.session = null;
        this.options = null;
        this.owned = false;
        loaded.put(only.method(), only);
    }

    /** The decoder for a method, or null (see {@link #error}) if it cannot be loaded. */
    Decoder get(DecodingMethod m) {
        Decoder d = loaded.get(m);
        if (d != null || errors.containsKey(m)) {
            return d;
        }
        if (session == null) {
            errors.put(m, "drafter '" + m.wireName() + "' is not available: this scheduler serves "
                    + loaded.keySet().iterator().next().wireName() + " only");
            return null;
        }
        try {
            d = session.decoder(m, options.decoderOptions(m));
            loaded.put(m, d);
            return d;
        } catch (IOException | RuntimeException e) {
            String msg = "drafter '" + m.wireName() + "' is not available: " + e.getMessage();
            LOG.warn(msg);
            errors.put(m, msg);
            return null;
        }
    }

    /** The decoder for a method; its loading failure is thrown (for the default method, at start). */
    Decoder require(DecodingMethod m) throws IOException {
        if (session != null && !loaded.containsKey(m)) {
            loaded.put(m, session.decoder(m, options.decoderOptions(m)));
        }
        return get(m);
    }

    /** Every loaded decoder measures the machine now ({@link Decoder#calibrate}). */
    void calibrate() {
        loaded.values().forEach(Decoder::calibrate);
    }

    /** Every loaded decoder forgets its requests ({@link Decoder#forgetRequests}). */
    void forgetRequests() {
        loaded.values().forEach(Decoder::forgetRequests);
    }

    String error(DecodingMethod m) {
        return errors.get(m);
    }

    @Override
    public void close() {
        if (owned) {
            loaded.values().forEach(Decoder::close);
        }
        loaded.clear();
    }
}

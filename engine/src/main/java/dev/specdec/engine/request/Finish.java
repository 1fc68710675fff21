package dev.specdec.engine.request;

import java.util.Locale;

/** Why a generation ended. */
public enum Finish {
    /** EOS, a stop token or a stop string. */
    STOP,
    /** max_new_tokens or the model's context length reached. */
    LENGTH,
    /** the request was invalid or failed. */
    ERROR,
    /** cancelled by the client or past its deadline. */
    CANCELLED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}

package dev.specdec.engine.model;

/** A checkpoint folder or file that this engine cannot load, with a message a user can act on. */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.specdec.engine.request;

/** A request that cannot be served as given (bad sampling values, prompt longer than the context, ...). */
public class InvalidRequestException extends IllegalArgumentException {
    public InvalidRequestException(String message) {
        super(message);
    }
}

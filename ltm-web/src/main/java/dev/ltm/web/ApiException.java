package dev.ltm.web;

/**
 * A request the server answers with HTTP {@code status} and {@code {"error": message}}: bad input (400),
 * busy (503), no such route (404).
 */
final class ApiException extends RuntimeException {
    private final int status;

    ApiException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    /** A 400: what was wrong with the request and what was expected. */
    static ApiException badRequest(String message) { return new ApiException(400, message); }

    int status() { return status; }
}

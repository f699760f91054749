package dev.ltm.web;

/**
 * A request the server answers with HTTP {@code status} and {@code {"error": message}}: bad input (400),
 * busy (503), no such route (404).
 */
final class ApiException extends RuntimeException {
    private final int status;

    /** {@code message} may quote what the client sent: its control characters are written as escapes, so it stays one line. */
    ApiException(int status, String message) {
        super(escapeControls(message), null, false, false);
        this.status = status;
    }

    /** {@code s} with each ISO control character (CR, LF, tab, ...) written as its backslash escape, as in JSON. */
    static String escapeControls(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (!Character.isISOControl(ch)) out.append(ch);
            else if (ch == '\n') out.append("\\n");
            else if (ch == '\r') out.append("\\r");
            else if (ch == '\t') out.append("\\t");
            else out.append(String.format("\\u%04x", (int) ch));
        }
        return out.toString();
    }

    /** A 400: what was wrong with the request and what was expected. */
    static ApiException badRequest(String message) { return new ApiException(400, message); }

    int status() { return status; }
}

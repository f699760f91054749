package dev.ltm.optim.data;

/** Bad training data (missing or empty corpus, invalid UTF-8, malformed JSONL, too little text); the message is one line. */
public final class DataException extends RuntimeException {
    /** An error with a one-line message. */
    public DataException(String message) { super(oneLine(message)); }

    /** An error with a one-line message and the I/O error behind it. */
    public DataException(String message, Throwable cause) { super(oneLine(message), cause); }

    /** Line breaks that came from the corpus (a JSON line, a field name) spelled as escapes, so the message stays one line. */
    private static String oneLine(String message) { return message == null ? null : message.replace("\r", "\\r").replace("\n", "\\n"); }
}

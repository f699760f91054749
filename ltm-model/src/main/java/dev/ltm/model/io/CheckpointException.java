package dev.ltm.model.io;

/** A checkpoint or state file that cannot be read or written; the message is one line naming the file and the fault. */
public final class CheckpointException extends RuntimeException {
    /** An error with a one-line message. */
    public CheckpointException(String message) { super(oneLine(message)); }

    /** An error with a one-line message and the I/O error behind it. */
    public CheckpointException(String message, Throwable cause) { super(oneLine(message), cause); }

    /** Line breaks that came from a file (a tensor name, a JSON string) spelled as escapes, so the message stays one line. */
    static String oneLine(String message) { return message == null ? null : message.replace("\r", "\\r").replace("\n", "\\n"); }
}

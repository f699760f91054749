package dev.ltm.model.io;

/** A checkpoint or state file that cannot be read or written; the message is one line naming the file and the fault. */
public final class CheckpointException extends RuntimeException {
    /** An error with a one-line message. */
    public CheckpointException(String message) { super(message); }

    /** An error with a one-line message and the I/O error behind it. */
    public CheckpointException(String message, Throwable cause) { super(message, cause); }
}

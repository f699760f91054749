package dev.ltm.optim;

/**
 * A training step whose loss, fit bound or gradient norm is NaN or infinite: the step was not
 * applied (weights and moments are as before it), and the message is one line naming the step.
 */
public final class NonFiniteException extends RuntimeException {
    private final int step;

    /** The failure of step {@code step} (0-based), with a one-line message. */
    public NonFiniteException(int step, String message) {
        super(message);
        this.step = step;
    }

    /** The 0-based index of the step that was refused. */
    public int step() { return step; }
}

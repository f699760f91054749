package dev.ltm.autograd;

/**
 * A scope in which ops record nothing (like {@code torch.no_grad()}): values are computed, no
 * backward rules are kept. Use with try-with-resources; scopes nest, per thread.
 */
public final class NoGrad implements AutoCloseable {
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private NoGrad() { DEPTH.get()[0]++; }

    /** Enters a no-grad scope until {@link #close()}. */
    public static NoGrad enter() { return new NoGrad(); }

    /** Whether ops on this thread record backward rules. */
    public static boolean recording() { return DEPTH.get()[0] == 0; }

    @Override public void close() { DEPTH.get()[0]--; }
}

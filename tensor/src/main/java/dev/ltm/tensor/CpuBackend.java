package dev.ltm.tensor;

/** The reference backend: Vector API kernels on the heap, parallel over {@link Parallel}'s pool. */
public final class CpuBackend implements Backend {
    /** The single CPU backend. */
    public static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {}

    @Override public String name() { return "cpu"; }
}

package dev.ltm.tensor;

/**
 * Where tensor ops run. The CPU backend is the reference; other backends (OpenCL) must agree
 * with it within float32 tolerance. Model code never branches on the backend.
 */
public interface Backend {
    /** A short name, such as {@code cpu} or {@code opencl:0}. */
    String name();
}

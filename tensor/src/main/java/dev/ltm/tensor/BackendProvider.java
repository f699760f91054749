package dev.ltm.tensor;

import java.util.Optional;

/**
 * A source of non-CPU backends, found with {@link java.util.ServiceLoader} (the gpu module
 * registers one for OpenCL), so that the engine never depends on a backend's module.
 */
public interface BackendProvider {
    /** The device family this provider serves, such as {@code opencl}. */
    String family();

    /**
     * The backend for device {@code index} of this family, or empty with the reason in
     * {@code whyNot[0]} when the family is absent on this machine (no driver, no device).
     */
    Optional<Backend> open(int index, String[] whyNot);
}

package dev.ltm.gpu;

import dev.ltm.tensor.Backend;
import dev.ltm.tensor.BackendProvider;
import java.util.Optional;

/** Serves {@code opencl:N} to {@link dev.ltm.tensor.Backends#select}: device N of {@link OpenClRuntime#available()}. */
public final class OpenClBackendProvider implements BackendProvider {
    /** The provider (found through {@link java.util.ServiceLoader}). */
    public OpenClBackendProvider() {}

    @Override public String family() { return "opencl"; }

    @Override
    public Optional<Backend> open(int index, String[] whyNot) {
        OpenClRuntime.Availability a = OpenClRuntime.available();
        if (!a.present()) {
            whyNot[0] = a.reason();
            return Optional.empty();
        }
        if (index < 0 || index >= a.devices().size()) {
            whyNot[0] = "no OpenCL device " + index + ", " + a.devices().size() + " found";
            return Optional.empty();
        }
        try {
            return Optional.of(new OpenClBackend(ClContext.open(a.devices().get(index)), index));
        } catch (RuntimeException e) {
            whyNot[0] = "opening " + a.devices().get(index).deviceName() + " failed: " + e.getMessage();
            return Optional.empty();
        }
    }
}

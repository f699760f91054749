package dev.ltm.cli;

import dev.ltm.tensor.Backend;
import dev.ltm.tensor.Backends;
import dev.ltm.tensor.CpuBackend;
import picocli.CommandLine.Option;

/** The {@code --device} option every command shares (a picocli mixin). */
final class DeviceOption {
    @Option(names = "--device", defaultValue = "cpu", description = "cpu, opencl or opencl:N (default: ${DEFAULT-VALUE}).")
    String device;

    /** The chosen backend; OpenCL falls back to the CPU with one line when no driver or device is present. */
    Backend select() {
        Backend b = Backends.select(device);
        if (b != CpuBackend.INSTANCE) System.err.println("ltm: running on " + b.name());
        return b;
    }
}

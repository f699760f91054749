package dev.ltm.tensor;

import java.util.Optional;
import java.util.ServiceLoader;

/** Picks a backend by the name a user gives: {@code cpu}, {@code opencl} or {@code opencl:N}. */
public final class Backends {
    private Backends() {}

    /**
     * The backend named by {@code spec}. An unknown name is an error; a known family that is absent on
     * this machine (say, no OpenCL driver) falls back to the CPU backend after one line on standard error.
     */
    public static Backend select(String spec) {
        String s = spec == null ? "cpu" : spec.trim().toLowerCase();
        if (s.equals("cpu")) return CpuBackend.INSTANCE;
        int colon = s.indexOf(':');
        String family = colon < 0 ? s : s.substring(0, colon);
        int index;
        try {
            index = colon < 0 ? 0 : Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("device '" + spec + "': expected cpu, opencl or opencl:N with N a device number");
        }
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            if (!p.family().equals(family)) continue;
            String[] why = new String[1];
            Optional<Backend> b = p.open(index, why);
            if (b.isPresent()) return b.get();
            System.err.println("ltm: device " + spec + " is not available (" + why[0] + "); using the CPU backend");
            return CpuBackend.INSTANCE;
        }
        if (family.equals("opencl")) {
            System.err.println("ltm: device " + spec
                    + " is not available (the gpu module is not on the class path); using the CPU backend");
            return CpuBackend.INSTANCE;
        }
        throw new IllegalArgumentException("device '" + spec + "': unknown; expected cpu, opencl or opencl:N");
    }
}

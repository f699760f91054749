package dev.ltm.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** Finds the OpenCL devices of this machine; absence (no library, no platform) is an answer, not an error. */
public final class OpenClRuntime {
    private OpenClRuntime() {}

    /**
     * What discovery found: the devices (GPUs first), or none with the reason why.
     *
     * @param devices the devices of all platforms, GPUs before other kinds
     * @param reason  empty when devices were found; otherwise why there are none
     */
    public record Availability(List<ClDevice> devices, String reason) {
        /** True when at least one device was found. */
        public boolean present() {
            return !devices.isEmpty();
        }
    }

    /** Lists the OpenCL devices, or returns an empty list with the reason when OpenCL is absent. */
    public static Availability available() {
        OpenCl.Load load = OpenCl.loaded();
        if (load.bindings().isEmpty()) return new Availability(List.of(), load.reason());
        OpenCl cl = load.bindings().get();
        List<ClDevice> gpus = new ArrayList<>();
        List<ClDevice> others = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] platforms = cl.platformIds(arena);
            if (platforms.length == 0) {
                return new Availability(List.of(), "libOpenCL found but no OpenCL platform is installed (no ICD)");
            }
            for (MemorySegment p : platforms) {
                String platformName = cl.platformString(p, OpenCl.CL_PLATFORM_NAME);
                for (MemorySegment d : cl.deviceIds(arena, p)) {
                    ClDevice dev = describe(cl, platformName, d);
                    (dev.type().equals("GPU") ? gpus : others).add(dev);
                }
            }
        } catch (OpenClException e) {
            return new Availability(List.of(), "OpenCL discovery failed: " + e.getMessage());
        }
        gpus.addAll(others);
        if (gpus.isEmpty()) return new Availability(List.of(), "OpenCL platforms found but they have no devices");
        return new Availability(List.copyOf(gpus), "");
    }

    /** The OpenCL bindings; throws when libOpenCL is absent (call {@link #available()} first). */
    static OpenCl bindings() {
        OpenCl.Load load = OpenCl.loaded();
        return load.bindings().orElseThrow(() -> new IllegalStateException("OpenCL: " + load.reason()));
    }

    private static ClDevice describe(OpenCl cl, String platformName, MemorySegment d) {
        long type = cl.deviceLong(d, OpenCl.CL_DEVICE_TYPE, 8);
        String kind = (type & 4) != 0 ? "GPU" : (type & 2) != 0 ? "CPU" : (type & 8) != 0 ? "ACCELERATOR" : "OTHER";
        return new ClDevice(platformName, cl.deviceString(d, OpenCl.CL_DEVICE_NAME), kind,
                cl.deviceString(d, OpenCl.CL_DEVICE_VERSION),
                (int) cl.deviceLong(d, OpenCl.CL_DEVICE_MAX_COMPUTE_UNITS, 4),
                cl.deviceLong(d, OpenCl.CL_DEVICE_GLOBAL_MEM_SIZE, 8),
                cl.deviceLong(d, OpenCl.CL_DEVICE_MAX_MEM_ALLOC_SIZE, 8),
                cl.deviceLong(d, OpenCl.CL_DEVICE_LOCAL_MEM_SIZE, 8),
                cl.deviceLong(d, OpenCl.CL_DEVICE_MAX_WORK_GROUP_SIZE, 8), d);
    }
}

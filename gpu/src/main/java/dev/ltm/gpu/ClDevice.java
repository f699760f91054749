package dev.ltm.gpu;

import java.lang.foreign.MemorySegment;

/**
 * One OpenCL device as discovered: names, kind and sizes; {@code id} is the opaque cl_device_id.
 *
 * @param platformName   the platform, e.g. "Portable Computing Language" or "NVIDIA CUDA"
 * @param deviceName     the device, e.g. "NVIDIA H100"
 * @param type           "GPU", "CPU", "ACCELERATOR" or "OTHER"
 * @param version        the device's OpenCL version string
 * @param computeUnits   parallel compute units (SMs on NVIDIA, cores on PoCL)
 * @param globalMemBytes global memory size in bytes
 * @param maxAllocBytes  the largest single buffer in bytes
 * @param localMemBytes  local (shared) memory per work group in bytes
 * @param maxWorkGroup   the largest work-group size
 * @param id             the cl_device_id handle
 */
public record ClDevice(String platformName, String deviceName, String type, String version, int computeUnits,
                       long globalMemBytes, long maxAllocBytes, long localMemBytes, long maxWorkGroup,
                       MemorySegment id) {

    /** One line for logs: {@code "NVIDIA H100 (GPU, 132 CU, 79.1 GiB) on NVIDIA CUDA"}. */
    public String describe() {
        return "%s (%s, %d CU, %.1f GiB) on %s".formatted(deviceName, type, computeUnits,
                globalMemBytes / (1024.0 * 1024 * 1024), platformName);
    }
}

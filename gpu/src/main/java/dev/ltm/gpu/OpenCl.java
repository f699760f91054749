package dev.ltm.gpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The OpenCL 1.2 entry points this module uses, bound by downcall handles to the system's
 * libOpenCL (the ICD loader). Every wrapper checks the status and throws {@link OpenClException}.
 * Handles (cl_platform_id, cl_context, cl_mem ...) are plain {@link MemorySegment} addresses.
 */
final class OpenCl {
    // cl.h constants used here.
    static final int CL_PLATFORM_NAME = 0x0902;
    static final int CL_PLATFORM_VERSION = 0x0901;
    static final long CL_DEVICE_TYPE_ALL = 0xFFFFFFFFL;
    static final int CL_DEVICE_TYPE = 0x1000;
    static final int CL_DEVICE_MAX_COMPUTE_UNITS = 0x1002;
    static final int CL_DEVICE_MAX_WORK_GROUP_SIZE = 0x1004;
    static final int CL_DEVICE_MAX_MEM_ALLOC_SIZE = 0x1010;
    static final int CL_DEVICE_GLOBAL_MEM_SIZE = 0x101F;
    static final int CL_DEVICE_LOCAL_MEM_SIZE = 0x1023;
    static final int CL_DEVICE_NAME = 0x102B;
    static final int CL_DEVICE_VERSION = 0x102F;
    static final int CL_QUEUE_PROPERTIES = 0x1093;
    static final long CL_QUEUE_PROFILING_ENABLE = 1L << 1;
    static final int CL_PROGRAM_BUILD_LOG = 0x1183;
    static final long CL_MEM_READ_WRITE = 1L;
    static final int CL_PROFILING_COMMAND_START = 0x1282;
    static final int CL_PROFILING_COMMAND_END = 0x1283;
    static final int CL_PLATFORM_NOT_FOUND_KHR = -1001;
    static final int CL_SUCCESS = 0;

    /** The bindings, or why there are none (no libOpenCL on this machine). */
    record Load(Optional<OpenCl> bindings, String reason) {}

    // Loaded once at class initialisation and never changed afterwards.
    private static final Load LOAD = load();

    static Load loaded() {
        return LOAD;
    }

    @SuppressWarnings("restricted") // loading libOpenCL is the point; the module runs with --enable-native-access
    private static Load load() {
        for (String name : new String[] {"libOpenCL.so.1", "libOpenCL.so", "OpenCL"}) {
            try {
                SymbolLookup lib = SymbolLookup.libraryLookup(name, Arena.global());
                return new Load(Optional.of(new OpenCl(lib)), "");
            } catch (IllegalArgumentException notFound) {
                // try the next name
            }
        }
        return new Load(Optional.empty(), "no OpenCL library (tried libOpenCL.so.1, libOpenCL.so, OpenCL)");
    }

    private final MethodHandle getPlatformIDs, getPlatformInfo, getDeviceIDs, getDeviceInfo;
    private final MethodHandle createContext, createQueueWithProperties, createQueue;
    private final MethodHandle createProgramWithSource, buildProgram, getProgramBuildInfo, createKernel;
    private final MethodHandle setKernelArg, enqueueNDRangeKernel;
    private final MethodHandle createBuffer, enqueueReadBuffer, enqueueWriteBuffer, enqueueFillBuffer, enqueueCopyBuffer;
    private final MethodHandle finish, waitForEvents, getEventProfilingInfo;
    private final MethodHandle releaseMemObject, releaseKernel, releaseProgram, releaseQueue, releaseContext, releaseEvent;

    private OpenCl(SymbolLookup lib) {
        getPlatformIDs = bind(lib, "clGetPlatformIDs", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
        getPlatformInfo = bind(lib, "clGetPlatformInfo", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        getDeviceIDs = bind(lib, "clGetDeviceIDs", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
        getDeviceInfo = bind(lib, "clGetDeviceInfo", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        createContext = bind(lib, "clCreateContext", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        createQueueWithProperties = lib.find("clCreateCommandQueueWithProperties").isPresent()
                ? bind(lib, "clCreateCommandQueueWithProperties", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS)
                : null;
        createQueue = bind(lib, "clCreateCommandQueue", ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);
        createProgramWithSource = bind(lib, "clCreateProgramWithSource", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        buildProgram = bind(lib, "clBuildProgram", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        getProgramBuildInfo = bind(lib, "clGetProgramBuildInfo", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        createKernel = bind(lib, "clCreateKernel", ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        setKernelArg = bind(lib, "clSetKernelArg", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS);
        enqueueNDRangeKernel = bind(lib, "clEnqueueNDRangeKernel",
                JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        createBuffer = bind(lib, "clCreateBuffer", ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS);
        enqueueReadBuffer = bind(lib, "clEnqueueReadBuffer",
                JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        enqueueWriteBuffer = bind(lib, "clEnqueueWriteBuffer",
                JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        enqueueFillBuffer = bind(lib, "clEnqueueFillBuffer",
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
        enqueueCopyBuffer = bind(lib, "clEnqueueCopyBuffer",
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
        finish = bind(lib, "clFinish", JAVA_INT, ADDRESS);
        waitForEvents = bind(lib, "clWaitForEvents", JAVA_INT, JAVA_INT, ADDRESS);
        getEventProfilingInfo = bind(lib, "clGetEventProfilingInfo", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        releaseMemObject = bind(lib, "clReleaseMemObject", JAVA_INT, ADDRESS);
        releaseKernel = bind(lib, "clReleaseKernel", JAVA_INT, ADDRESS);
        releaseProgram = bind(lib, "clReleaseProgram", JAVA_INT, ADDRESS);
        releaseQueue = bind(lib, "clReleaseCommandQueue", JAVA_INT, ADDRESS);
        releaseContext = bind(lib, "clReleaseContext", JAVA_INT, ADDRESS);
        releaseEvent = bind(lib, "clReleaseEvent", JAVA_INT, ADDRESS);
    }

    @SuppressWarnings("restricted")
    private static MethodHandle bind(SymbolLookup lib, String name, java.lang.foreign.MemoryLayout ret,
                                     java.lang.foreign.MemoryLayout... args) {
        MemorySegment symbol = lib.find(name)
                .orElseThrow(() -> new IllegalStateException("libOpenCL has no symbol " + name));
        return Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.of(ret, args));
    }

    // ---- calls -------------------------------------------------------------------------------

    private static void check(String call, int status) {
        if (status != CL_SUCCESS) throw new OpenClException(call, status);
    }

    private static RuntimeException rethrow(String call, Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(call + ": " + t, t);
    }

    /** The platform ids; empty when the ICD loader finds no platform (CL_PLATFORM_NOT_FOUND_KHR). */
    MemorySegment[] platformIds(Arena arena) {
        try {
            MemorySegment count = arena.allocate(JAVA_INT);
            int status = (int) getPlatformIDs.invokeExact(0, MemorySegment.NULL, count);
            if (status == CL_PLATFORM_NOT_FOUND_KHR) return new MemorySegment[0];
            check("clGetPlatformIDs", status);
            int n = count.get(JAVA_INT, 0);
            if (n == 0) return new MemorySegment[0];
            MemorySegment ids = arena.allocate(ADDRESS, n);
            check("clGetPlatformIDs", (int) getPlatformIDs.invokeExact(n, ids, MemorySegment.NULL));
            return readAddresses(ids, n);
        } catch (Throwable t) {
            throw rethrow("clGetPlatformIDs", t);
        }
    }

    String platformString(MemorySegment platform, int param) {
        return infoString("clGetPlatformInfo", getPlatformInfo, platform, param);
    }

    /**
     * A string property through a clGet*Info entry point (object, param, size, value, size_ret):
     * one call for the size, one for the bytes.
     */
    private String infoString(String call, MethodHandle info, MemorySegment object, int param) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(JAVA_LONG);
            check(call, (int) info.invokeExact(object, param, 0L, MemorySegment.NULL, size));
            long n = size.get(JAVA_LONG, 0);
            MemorySegment buf = arena.allocate(Math.max(1, n));
            check(call, (int) info.invokeExact(object, param, n, buf, MemorySegment.NULL));
            return buf.getString(0, StandardCharsets.UTF_8).trim();
        } catch (Throwable t) {
            throw rethrow(call, t);
        }
    }

    /** The device ids of a platform; empty when it has none (CL_DEVICE_NOT_FOUND). */
    MemorySegment[] deviceIds(Arena arena, MemorySegment platform) {
        try {
            MemorySegment count = arena.allocate(JAVA_INT);
            int status = (int) getDeviceIDs.invokeExact(platform, CL_DEVICE_TYPE_ALL, 0, MemorySegment.NULL, count);
            if (status == -1) return new MemorySegment[0];
            check("clGetDeviceIDs", status);
            int n = count.get(JAVA_INT, 0);
            MemorySegment ids = arena.allocate(ADDRESS, Math.max(1, n));
            check("clGetDeviceIDs", (int) getDeviceIDs.invokeExact(platform, CL_DEVICE_TYPE_ALL, n, ids, MemorySegment.NULL));
            return readAddresses(ids, n);
        } catch (Throwable t) {
            throw rethrow("clGetDeviceIDs", t);
        }
    }

    String deviceString(MemorySegment device, int param) {
        return infoString("clGetDeviceInfo", getDeviceInfo, device, param);
    }

    /** A cl_uint, cl_ulong or size_t device property, widened to long. */
    long deviceLong(MemorySegment device, int param, int bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8);
            check("clGetDeviceInfo", (int) getDeviceInfo.invokeExact(device, param, (long) bytes, buf, MemorySegment.NULL));
            return bytes == 4 ? Integer.toUnsignedLong(buf.get(JAVA_INT, 0)) : buf.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow("clGetDeviceInfo", t);
        }
    }

    MemorySegment createContext(MemorySegment device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment devices = arena.allocate(ADDRESS);
            devices.set(ADDRESS, 0, device);
            MemorySegment err = arena.allocate(JAVA_INT);
            MemorySegment ctx = (MemorySegment) createContext.invokeExact(
                    MemorySegment.NULL, 1, devices, MemorySegment.NULL, MemorySegment.NULL, err);
            check("clCreateContext", err.get(JAVA_INT, 0));
            return ctx;
        } catch (Throwable t) {
            throw rethrow("clCreateContext", t);
        }
    }

    /** An in-order queue with profiling enabled (events carry start and end times). */
    MemorySegment createQueue(MemorySegment context, MemorySegment device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(JAVA_INT);
            if (createQueueWithProperties != null) {
                MemorySegment props = arena.allocate(JAVA_LONG, 3);
                props.setAtIndex(JAVA_LONG, 0, CL_QUEUE_PROPERTIES);
                props.setAtIndex(JAVA_LONG, 1, CL_QUEUE_PROFILING_ENABLE);
                props.setAtIndex(JAVA_LONG, 2, 0L);
                MemorySegment q = (MemorySegment) createQueueWithProperties.invokeExact(context, device, props, err);
                if (err.get(JAVA_INT, 0) == CL_SUCCESS) return q;
                // An OpenCL 1.x driver behind a 2.x loader: fall back to the 1.2 entry point.
            }
            MemorySegment q = (MemorySegment) createQueue.invokeExact(context, device, CL_QUEUE_PROFILING_ENABLE, err);
            check("clCreateCommandQueue", err.get(JAVA_INT, 0));
            return q;
        } catch (Throwable t) {
            throw rethrow("clCreateCommandQueue", t);
        }
    }

    /** Compiles OpenCL C source for one device; a failed build throws with the build log. */
    MemorySegment buildProgram(MemorySegment context, MemorySegment device, String name, String source, String options) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment strings = arena.allocate(ADDRESS);
            strings.set(ADDRESS, 0, arena.allocateFrom(source));
            MemorySegment err = arena.allocate(JAVA_INT);
            MemorySegment program = (MemorySegment) createProgramWithSource.invokeExact(
                    context, 1, strings, MemorySegment.NULL, err);
            check("clCreateProgramWithSource(" + name + ")", err.get(JAVA_INT, 0));
            MemorySegment devices = arena.allocate(ADDRESS);
            devices.set(ADDRESS, 0, device);
            int status = (int) buildProgram.invokeExact(program, 1, devices, arena.allocateFrom(options),
                    MemorySegment.NULL, MemorySegment.NULL);
            if (status != CL_SUCCESS) {
                String log = buildLog(program, device);
                release(releaseProgram, program);
                throw new OpenClException("clBuildProgram(" + name + ", \"" + options + "\")", status, log);
            }
            return program;
        } catch (Throwable t) {
            throw rethrow("clBuildProgram", t);
        }
    }

    private String buildLog(MemorySegment program, MemorySegment device) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(JAVA_LONG);
            int status = (int) getProgramBuildInfo.invokeExact(program, device, CL_PROGRAM_BUILD_LOG, 0L,
                    MemorySegment.NULL, size);
            if (status != CL_SUCCESS) return "(no build log: clGetProgramBuildInfo " + OpenClException.symbol(status) + ")";
            long n = size.get(JAVA_LONG, 0);
            MemorySegment buf = arena.allocate(Math.max(1, n));
            check("clGetProgramBuildInfo", (int) getProgramBuildInfo.invokeExact(program, device,
                    CL_PROGRAM_BUILD_LOG, n, buf, MemorySegment.NULL));
            return buf.getString(0, StandardCharsets.UTF_8).trim();
        }
    }

    MemorySegment createKernel(MemorySegment program, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(JAVA_INT);
            MemorySegment k = (MemorySegment) createKernel.invokeExact(program, arena.allocateFrom(name), err);
            check("clCreateKernel(" + name + ")", err.get(JAVA_INT, 0));
            return k;
        } catch (Throwable t) {
            throw rethrow("clCreateKernel", t);
        }
    }

    /** Sets argument {@code index}; {@code value} points at {@code size} bytes, or is NULL for a __local array. */
    void setKernelArg(MemorySegment kernel, int index, long size, MemorySegment value, String kernelName) {
        try {
            int status = (int) setKernelArg.invokeExact(kernel, index, size, value);
            if (status != CL_SUCCESS) throw new OpenClException("clSetKernelArg(" + kernelName + ", " + index + ")", status);
        } catch (Throwable t) {
            throw rethrow("clSetKernelArg", t);
        }
    }

    /** Enqueues a kernel; when {@code event} is not NULL the new event handle is written there. */
    void enqueueKernel(MemorySegment queue, MemorySegment kernel, int dims, MemorySegment global,
                       MemorySegment local, MemorySegment event, String kernelName) {
        try {
            int status = (int) enqueueNDRangeKernel.invokeExact(queue, kernel, dims, MemorySegment.NULL, global,
                    local, 0, MemorySegment.NULL, event);
            if (status != CL_SUCCESS) throw new OpenClException("clEnqueueNDRangeKernel(" + kernelName + ")", status);
        } catch (Throwable t) {
            throw rethrow("clEnqueueNDRangeKernel", t);
        }
    }

    MemorySegment createBuffer(MemorySegment context, long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(JAVA_INT);
            MemorySegment mem = (MemorySegment) createBuffer.invokeExact(context, CL_MEM_READ_WRITE, bytes,
                    MemorySegment.NULL, err);
            int status = err.get(JAVA_INT, 0);
            if (status != CL_SUCCESS) throw new OpenClException("clCreateBuffer(" + bytes + " bytes)", status);
            return mem;
        } catch (Throwable t) {
            throw rethrow("clCreateBuffer", t);
        }
    }

    /** Blocking read of {@code bytes} from {@code mem} at {@code offset} into host memory. */
    void readBuffer(MemorySegment queue, MemorySegment mem, long offset, long bytes, MemorySegment host) {
        try {
            check("clEnqueueReadBuffer", (int) enqueueReadBuffer.invokeExact(queue, mem, 1, offset, bytes, host,
                    0, MemorySegment.NULL, MemorySegment.NULL));
        } catch (Throwable t) {
            throw rethrow("clEnqueueReadBuffer", t);
        }
    }

    /** Blocking write of {@code bytes} of host memory into {@code mem} at {@code offset}. */
    void writeBuffer(MemorySegment queue, MemorySegment mem, long offset, long bytes, MemorySegment host) {
        try {
            check("clEnqueueWriteBuffer", (int) enqueueWriteBuffer.invokeExact(queue, mem, 1, offset, bytes, host,
                    0, MemorySegment.NULL, MemorySegment.NULL));
        } catch (Throwable t) {
            throw rethrow("clEnqueueWriteBuffer", t);
        }
    }

    void fillBuffer(MemorySegment queue, MemorySegment mem, MemorySegment pattern, long patternBytes, long offset, long bytes) {
        try {
            check("clEnqueueFillBuffer", (int) enqueueFillBuffer.invokeExact(queue, mem, pattern, patternBytes,
                    offset, bytes, 0, MemorySegment.NULL, MemorySegment.NULL));
        } catch (Throwable t) {
            throw rethrow("clEnqueueFillBuffer", t);
        }
    }

    void copyBuffer(MemorySegment queue, MemorySegment src, MemorySegment dst, long srcOffset, long dstOffset, long bytes) {
        try {
            check("clEnqueueCopyBuffer", (int) enqueueCopyBuffer.invokeExact(queue, src, dst, srcOffset, dstOffset,
                    bytes, 0, MemorySegment.NULL, MemorySegment.NULL));
        } catch (Throwable t) {
            throw rethrow("clEnqueueCopyBuffer", t);
        }
    }

    void finish(MemorySegment queue) {
        try {
            check("clFinish", (int) finish.invokeExact(queue));
        } catch (Throwable t) {
            throw rethrow("clFinish", t);
        }
    }

    /** Waits for one event and returns its device time (end - start) in nanoseconds. */
    long waitAndTime(MemorySegment event) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment list = arena.allocate(ADDRESS);
            list.set(ADDRESS, 0, event);
            check("clWaitForEvents", (int) waitForEvents.invokeExact(1, list));
            MemorySegment t = arena.allocate(JAVA_LONG);
            check("clGetEventProfilingInfo", (int) getEventProfilingInfo.invokeExact(event, CL_PROFILING_COMMAND_START,
                    8L, t, MemorySegment.NULL));
            long start = t.get(JAVA_LONG, 0);
            check("clGetEventProfilingInfo", (int) getEventProfilingInfo.invokeExact(event, CL_PROFILING_COMMAND_END,
                    8L, t, MemorySegment.NULL));
            return t.get(JAVA_LONG, 0) - start;
        } catch (Throwable t) {
            throw rethrow("clWaitForEvents", t);
        }
    }

    void releaseMemObject(MemorySegment m) { release(releaseMemObject, m, "clReleaseMemObject"); }
    void releaseKernel(MemorySegment k) { release(releaseKernel, k, "clReleaseKernel"); }
    void releaseProgram(MemorySegment p) { release(releaseProgram, p, "clReleaseProgram"); }
    void releaseQueue(MemorySegment q) { release(releaseQueue, q, "clReleaseCommandQueue"); }
    void releaseContext(MemorySegment c) { release(releaseContext, c, "clReleaseContext"); }
    void releaseEvent(MemorySegment e) { release(releaseEvent, e, "clReleaseEvent"); }

    private static void release(MethodHandle h, MemorySegment handle) throws Throwable {
        int ignored = (int) h.invokeExact(handle);
    }

    private static void release(MethodHandle h, MemorySegment handle, String call) {
        try {
            check(call, (int) h.invokeExact(handle));
        } catch (Throwable t) {
            throw rethrow(call, t);
        }
    }

    private static MemorySegment[] readAddresses(MemorySegment ids, int n) {
        MemorySegment[] out = new MemorySegment[n];
        for (int i = 0; i < n; i++) out[i] = ids.getAtIndex(ADDRESS, i);
        return out;
    }
}

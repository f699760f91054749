package dev.ltm.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Runs without any OpenCL device. */
class OpenClExceptionTest {
    @Test
    void statusCodesHaveTheirSymbolicNames() {
        assertThat(OpenClException.symbol(-11)).isEqualTo("CL_BUILD_PROGRAM_FAILURE");
        assertThat(OpenClException.symbol(-5)).isEqualTo("CL_OUT_OF_RESOURCES");
        assertThat(OpenClException.symbol(-1001)).isEqualTo("CL_PLATFORM_NOT_FOUND_KHR");
        assertThat(OpenClException.symbol(-999)).isEqualTo("unknown OpenCL status");
        assertThat(new OpenClException("clFinish", -36).getMessage())
                .isEqualTo("clFinish failed: -36 (CL_INVALID_COMMAND_QUEUE)");
    }

    @Test
    void discoveryAnswersEitherDevicesOrAReason() {
        OpenClRuntime.Availability a = OpenClRuntime.available();
        if (a.present()) assertThat(a.reason()).isEmpty();
        else assertThat(a.reason()).isNotBlank();
    }
}

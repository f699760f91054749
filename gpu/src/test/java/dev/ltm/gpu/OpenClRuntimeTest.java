package dev.ltm.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClRuntimeTest {
    private ClContext ctx;

    @BeforeAll
    void open() {
        ctx = ClTest.openOrSkip();
        System.out.println("OpenCL device: " + ctx.device().describe());
    }

    @AfterAll
    void close() {
        if (ctx != null) ctx.close();
    }

    @Test
    void discoveryDescribesTheDevice() {
        OpenClRuntime.Availability a = OpenClRuntime.available();
        assertThat(a.present()).isTrue();
        assertThat(a.reason()).isEmpty();
        ClDevice d = a.devices().getFirst();
        assertThat(d.deviceName()).isNotBlank();
        assertThat(d.platformName()).isNotBlank();
        assertThat(d.type()).isIn("GPU", "CPU", "ACCELERATOR", "OTHER");
        assertThat(d.computeUnits()).isPositive();
        assertThat(d.globalMemBytes()).isPositive();
        assertThat(d.maxWorkGroup()).isGreaterThanOrEqualTo(256);
    }

    @Test
    void buffersRoundTripFloatsAndInts() {
        float[] data = {1.5f, -2f, 3.25f, 0f, 7f};
        try (ClBuffer b = ctx.buffer(data); ClBuffer ids = ctx.buffer(new int[] {3, -1, 42})) {
            assertThat(b.length()).isEqualTo(5);
            assertThat(b.toFloats()).containsExactly(data);
            assertThat(ids.toInts()).containsExactly(3, -1, 42);
            b.upload(new float[] {9f, 8f}, 0, 3, 2);
            assertThat(b.toFloats()).containsExactly(1.5f, -2f, 3.25f, 9f, 8f);
            float[] part = new float[2];
            b.download(1, part, 0, 2);
            assertThat(part).containsExactly(-2f, 3.25f);
        }
    }

    @Test
    void fillAndCopyWorkOnTheDevice() {
        try (ClBuffer a = ctx.buffer(7); ClBuffer b = ctx.buffer(new float[] {1, 2, 3, 4, 5, 6, 7})) {
            a.fill(0.5f);
            assertThat(a.toFloats()).containsOnly(0.5f);
            a.copyFrom(b, 2, 4, 3);
            assertThat(a.toFloats()).containsExactly(0.5f, 0.5f, 0.5f, 0.5f, 3f, 4f, 5f);
        }
    }

    @Test
    void emptyBuffersAreAllowed() {
        try (ClBuffer e = ctx.buffer(0)) {
            assertThat(e.length()).isZero();
            assertThat(e.toFloats()).isEmpty();
        }
    }

    @Test
    void outOfRangeTransfersAreRefusedWithTheRange() {
        try (ClBuffer b = ctx.buffer(4)) {
            assertThatThrownBy(() -> b.upload(new float[5]))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("[0, 5)").hasMessageContaining("length 4");
        }
    }

    @Test
    void aFailedBuildNamesTheCallTheCodeAndTheLog() {
        assertThatThrownBy(() -> ctx.launch("broken.cl", "", "broken", new long[] {1}, new long[] {1}, false))
                .isInstanceOf(OpenClException.class)
                .hasMessageContaining("clBuildProgram(broken.cl")
                .hasMessageContaining("-11 (CL_BUILD_PROGRAM_FAILURE)")
                .hasMessageContaining("undeclared_identifier")
                .satisfies(e -> assertThat(((OpenClException) e).code()).isEqualTo(-11));
    }

    @Test
    void benchMeasuresAPositiveRate() {
        double gflops = OpenClGemmBench.gemmGflops(ctx, 96, 2);
        System.out.printf("sgemm 96^3: %.2f GFLOP/s%n", gflops);
        assertThat(gflops).isPositive().isFinite();
    }
}

package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class SchedulesTest {

    @Test
    void slowScheduleWarmsUpFromZeroThenDecaysToATenth() {
        float peak = 4e-4f;
        assertThat(Schedules.warmupCosine(0, 10, 101, peak)).isEqualTo(0f);
        assertThat(Schedules.warmupCosine(5, 10, 101, peak)).isCloseTo(peak / 2, within(1e-9f));
        assertThat(Schedules.warmupCosine(10, 10, 101, peak)).isCloseTo(peak, within(1e-9f));
        assertThat(Schedules.warmupCosine(55, 10, 101, peak)).isCloseTo(0.55f * peak, within(1e-9f)); // half-way: mean of peak and peak/10
        assertThat(Schedules.warmupCosine(100, 10, 101, peak)).isCloseTo(peak / 10, within(1e-10f));
        assertThat(Schedules.warmupCosine(500, 10, 101, peak)).isCloseTo(peak / 10, within(1e-10f));
        assertThat(Schedules.warmupCosine(0, 0, 7, peak)).isEqualTo(peak);
        for (int s = 11; s < 101; s++) {
            assertThat(Schedules.warmupCosine(s, 10, 101, peak)).isLessThanOrEqualTo(Schedules.warmupCosine(s - 1, 10, 101, peak));
        }
        assertThatThrownBy(() -> Schedules.warmupCosine(-1, 10, 101, peak)).hasMessageContaining("step -1");
    }

    @Test
    void fastScheduleStartsAtFastLrAndStaysAboveATenth() {
        assertThat(Schedules.fastCosine(0, 16, 0.3f)).isCloseTo(0.3f, within(1e-7f));
        assertThat(Schedules.fastCosine(8, 16, 0.3f)).isCloseTo(0.165f, within(1e-7f));
        double last = 0.03 + 0.27 * (1 + Math.cos(Math.PI * 15 / 16)) / 2;
        assertThat((double) Schedules.fastCosine(15, 16, 0.3f)).isCloseTo(last, within(1e-7)).isGreaterThan(0.03);
        assertThat(Schedules.fastCosine(0, 1, 0.3f)).isCloseTo(0.3f, within(1e-7f));
        assertThatThrownBy(() -> Schedules.fastCosine(16, 16, 0.3f)).hasMessageContaining("outside [0, T_fast 16)");
    }
}

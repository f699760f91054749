package dev.ltm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.ltm.bench.jmh.FastFitGridBenchmark;
import dev.ltm.optim.Flops;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Param;

class JmhGridTest {

    @Test
    void theBenchmarksParamListIsTheGridAndEveryPointParses() throws Exception {
        Param param = FastFitGridBenchmark.class.getDeclaredField("point").getAnnotation(Param.class);
        assertThat(List.of(param.value())).isEqualTo(FastFitGridBenchmark.POINTS);
        FastFitGridBenchmark.Point n512 = FastFitGridBenchmark.Point.of("N=512");
        assertThat(n512.size().seqLen()).isEqualTo(512);
        assertThat(n512.size().width()).isEqualTo(FastFitGridBenchmark.H);
        assertThat(n512.valueOn("N")).isEqualTo(512);
        assertThat(n512.valueOn("H")).isEqualTo(FastFitGridBenchmark.H);
        assertThat(FastFitGridBenchmark.Point.of("T_fast=8").tFast()).isEqualTo(8);
        assertThat(FastFitGridBenchmark.Point.of("L=4").size().layers()).isEqualTo(4);
    }

    @Test
    void badPointsAreNamedInTheError() {
        assertThatThrownBy(() -> FastFitGridBenchmark.Point.of("W=3")).hasMessageContaining("'W=3' names no axis");
        assertThatThrownBy(() -> FastFitGridBenchmark.Point.of("N=x")).hasMessageContaining("'N=x' has no integer value");
        assertThatThrownBy(() -> FastFitGridBenchmark.Point.of("N=0")).hasMessageContaining(">= 1");
        assertThatThrownBy(() -> FastFitGridBenchmark.Point.of("huge")).hasMessageContaining("neither 'base' nor axis=value");
    }

    @Test
    void timesProportionalToTheFlopCountGiveTheFlopCountsExponentAndTimesThatDoubleGiveOne() {
        Map<String, Double> flopTimes = new LinkedHashMap<>(), doubling = new LinkedHashMap<>();
        for (String name : FastFitGridBenchmark.POINTS) {
            FastFitGridBenchmark.Point p = FastFitGridBenchmark.Point.of(name);
            LtmFixture.Size s = p.size();
            flopTimes.put(name, new Flops(s.config(), s.seqLen()).fit(p.tFast()) / 1e8);
            // time proportional to the value of the axis the point moves
            doubling.put(name, p.axis().equals("base") ? 100.0 : 100.0 * p.value() / defaultOn(p.axis()));
        }
        List<String> lines = JmhBench.gridExponents(flopTimes);
        assertThat(lines).hasSize(4);
        for (String line : lines) {
            // "jmh grid N 128..512: exponent E R^2 ...; FLOP count F; ..." with E == F
            double measured = Double.parseDouble(line.replaceAll(".*exponent ([0-9.]+) .*", "$1"));
            double counted = Double.parseDouble(line.replaceAll(".*FLOP count ([0-9.]+);.*", "$1"));
            assertThat(measured).as(line).isEqualTo(counted);
        }
        assertThat(lines.get(0)).startsWith("jmh grid T_fast 2..8: ");
        for (String line : JmhBench.gridExponents(doubling)) {
            assertThat(Double.parseDouble(line.replaceAll(".*exponent ([0-9.]+) .*", "$1"))).as(line).isCloseTo(1.0, within(1e-9));
        }
        // an axis with only the base measured prints nothing
        assertThat(JmhBench.gridExponents(Map.of("base", 1.0, "N=512", 2.0))).singleElement().asString().startsWith("jmh grid N 256..512: exponent 1.00 ");
    }

    private static int defaultOn(String axis) {
        return FastFitGridBenchmark.Point.of("base").valueOn(axis);
    }
}

package dev.ltm.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LtmSparkTest {
    @Test void anUnreachableStandaloneMasterIsOneLineWithinSeconds() {
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> LtmSpark.session("spark://127.0.0.1:1", "unreachable")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--master spark://127.0.0.1:1: no Spark master answers at 127.0.0.1:1")
                .hasMessageNotContaining("\n");
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(10);
    }

    @Test void aMalformedMasterIsRefused() {
        assertThatThrownBy(() -> LtmSpark.session("locl[2]", "typo")).hasMessageContaining("expected local[N]");
        assertThatThrownBy(() -> LtmSpark.session("spark://host:port", "typo")).hasMessageContaining("is not HOST:PORT");
    }

    @Test void theMasterDefaultsToSparkSubmitsThenLocal() {
        assertThat(LtmSpark.master("local[3]")).isEqualTo("local[3]");
        String before = System.getProperty("spark.master");
        try {
            System.clearProperty("spark.master");
            assertThat(LtmSpark.master(null)).isEqualTo("local[*]");
            System.setProperty("spark.master", "spark://h:7077");
            assertThat(LtmSpark.master(" ")).isEqualTo("spark://h:7077");
        } finally {
            if (before == null) System.clearProperty("spark.master");
            else System.setProperty("spark.master", before);
        }
    }
}

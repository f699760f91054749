package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import org.junit.jupiter.api.Test;

class LayerSetTest {
    @Test
    void parsesRangesListsAndWords() {
        assertThat(LayerSet.parse("1-3", 5).layers()).containsExactly(0, 1, 2);
        assertThat(LayerSet.parse("1,4", 5).layers()).containsExactly(0, 3);
        assertThat(LayerSet.parse(" 4, 1-2 ,2", 5).layers()).containsExactly(0, 1, 3);
        assertThat(LayerSet.parse("all", 3)).isEqualTo(LayerSet.all(3));
        assertThat(LayerSet.parse("none", 3).layers()).isEmpty();
        assertThat(LayerSet.parse("1-2,4,5", 5).toString()).isEqualTo("1-2,4-5");
    }

    @Test
    void badTextIsAOneLineError() {
        assertThatThrownBy(() -> LayerSet.parse("0", 3)).hasMessageContaining("layer 0 is outside 1..3");
        assertThatThrownBy(() -> LayerSet.parse("2-7", 3)).hasMessageContaining("layer 4 is outside 1..3");
        assertThatThrownBy(() -> LayerSet.parse("3-1", 3)).hasMessageContaining("runs backwards");
        assertThatThrownBy(() -> LayerSet.parse("a", 3)).hasMessageContaining("'a' is not a layer number");
        assertThatThrownBy(() -> LayerSet.parse("1,", 3)).hasMessageContaining("is not a layer number");
        assertThatThrownBy(() -> LayerSet.parse("", 3)).hasMessageContaining("empty");
    }

    @Test
    void keepZeroesTheOtherGroups() {
        Tensor z = Tensor.randn(new Rng(1), 0, 1, 2, 3, 2, 5);
        Tensor kept = LayerSet.parse("2", 3).keep(z);
        for (int b = 0; b < 2; b++) {
            for (int l = 0; l < 3; l++) {
                for (int j = 0; j < 2; j++) {
                    for (int h = 0; h < 5; h++) assertThat(kept.get(b, l, j, h)).isEqualTo(l == 1 ? z.get(b, l, j, h) : 0f);
                }
            }
        }
    }
}

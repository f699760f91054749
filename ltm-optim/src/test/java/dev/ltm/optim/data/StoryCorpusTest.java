package dev.ltm.optim.data;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StoryCorpusTest {

    @Test
    void sameSeedGivesSameStoriesAndOtherSeedsDiffer() {
        List<StoryCorpus.Story> a = StoryCorpus.generate(42, 37);
        List<StoryCorpus.Story> b = StoryCorpus.generate(42, 37);
        assertThat(a).isEqualTo(b);
        assertThat(StoryCorpus.generate(42, 5)).isEqualTo(a.subList(0, 5));
        assertThat(StoryCorpus.texts(StoryCorpus.generate(43, 37))).isNotEqualTo(StoryCorpus.texts(a));
        assertThat(new HashSet<>(StoryCorpus.texts(a))).hasSize(37);
        assertThat(StoryCorpus.generate(1, 0)).isEmpty();
    }

    @Test
    void storiesAreShortSimpleAscii() {
        for (StoryCorpus.Story s : StoryCorpus.generate(7, 500)) {
            int words = s.text().split("\\s+").length;
            assertThat(words).as(s.text()).isBetween(40, 120);
            assertThat(s.text().getBytes(StandardCharsets.UTF_8)).hasSize(s.text().length()); // ASCII only
            assertThat(s.text()).doesNotContain("{", "}", "  ");
        }
    }

    @Test
    void factorsAreListedAndEveryValueOccurs() {
        assertThat(StoryCorpus.factorNames()).containsExactly("hero", "place", "mood", "object", "weather", "ending");
        assertThat(StoryCorpus.factorValues("hero")).hasSize(8).contains("Mia the fox", "Tom the cat");
        assertThat(StoryCorpus.factorValues("place")).hasSize(6);
        assertThat(StoryCorpus.factorValues("mood")).contains("happy", "sad", "scared");
        assertThatThrownBy(() -> StoryCorpus.factorValues("color")).hasMessageContaining("unknown factor 'color'");

        List<StoryCorpus.Story> stories = StoryCorpus.generate(3, 2000);
        for (String f : StoryCorpus.factorNames()) {
            Set<Integer> seen = new HashSet<>();
            for (StoryCorpus.Story s : stories) seen.add(s.factor(f));
            assertThat(seen).as(f).hasSize(StoryCorpus.factorValues(f).size());
        }
        assertThat(stories.getFirst().factors().keySet()).containsExactlyElementsOf(StoryCorpus.factorNames());
    }

    @Test
    void factorsShapeTheWordsOfTheStory() {
        for (StoryCorpus.Story s : StoryCorpus.generate(11, 300)) {
            String[] hero = s.factorValue("hero").split(" the ");
            assertThat(s.text().split("\\b" + hero[0] + "\\b", -1).length - 1).as("hero name recurs").isGreaterThanOrEqualTo(3);
            assertThat(s.text()).contains(hero[1]);
            assertThat(s.text()).contains(" " + s.factorValue("object"));
            assertThat(s.text().toLowerCase()).containsPattern(switch (s.factorValue("weather")) {
                case "sunny" -> "sun";
                case "rainy" -> "rain";
                case "windy" -> "wind";
                default -> "snow";
            });
        }
    }

    /**
     * Knowing the factors makes the text predictable: words are spread over many stories, but
     * most words that occur at all come with one factor value far more often than chance.
     */
    @Test
    void placeWordsDependOnThePlaceFactor() {
        List<StoryCorpus.Story> stories = StoryCorpus.generate(5, 1200);
        Map<String, int[]> countsByWord = new HashMap<>();
        int places = StoryCorpus.factorValues("place").size();
        for (StoryCorpus.Story s : stories) {
            for (String w : new HashSet<>(List.of(s.text().toLowerCase().split("[^a-z]+")))) {
                countsByWord.computeIfAbsent(w, k -> new int[places])[s.factor("place")]++;
            }
        }
        for (String w : List.of("barn", "shell", "cave", "reeds", "bench", "mushroom")) {
            int[] c = countsByWord.get(w);
            int total = 0, max = 0;
            for (int x : c) { total += x; max = Math.max(max, x); }
            assertThat(max).as(w).isEqualTo(total); // only ever seen at one place
            assertThat(total).as(w).isGreaterThan(20);
        }
    }
}

package dev.ltm.optim.data;

import dev.ltm.tensor.Rng;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The default corpus: a seeded generator of short, simple English stories (about 40 to 120
 * words) whose words depend on six hidden story-level factors: the hero (name, species, way of
 * moving), the place (its nouns), the mood (adjectives, actions, speech), the object (recurs,
 * with its use), the weather and the ending. Each factor shapes words all through a story, so a
 * model that infers them early predicts the rest better: exactly what a per-sequence latent
 * thought can capture. The generator returns the factors with each story, for probing.
 * Small choices inside a story (colours, friends, sentence variants, order) are random noise.
 */
public final class StoryCorpus {
    private StoryCorpus() {}

    /** A story and the index of each factor's value, keyed by the names of {@link #factorNames()}, in that order. */
    public record Story(String text, Map<String, Integer> factors) {
        /** The value of factor {@code name} in words, e.g. "Mia the fox" or "rainy". */
        public String factorValue(String name) { return factorValues(name).get(factor(name)); }

        /** The index of factor {@code name}'s value, in {@code [0, factorValues(name).size())}. */
        public int factor(String name) {
            Integer v = factors.get(name);
            if (v == null) throw new IllegalArgumentException("story: unknown factor '" + name + "', expected one of " + factorNames());
            return v;
        }
    }

    // ---- the hidden factors and the words each one brings ----------------------------------

    private record Hero(String name, String species, String he, String his, String moved, String sound) {}
    private record Place(String name, String phrase, List<String> nouns, List<String> sights) {}
    private record Mood(String name, List<String> adjectives, List<String> actions, String speech) {}
    private record Thing(String name, String use, String goodAt) {}
    private record Weather(String name, List<String> sentences) {}
    private record Ending(String name, List<String> sentences) {}

    private static final List<Hero> HEROES = List.of(
            new Hero("Tom", "cat", "he", "his", "crept", "Meow"),
            new Hero("Mia", "fox", "she", "her", "trotted", "Yip"),
            new Hero("Ben", "bear", "he", "his", "walked", "Grr"),
            new Hero("Lily", "rabbit", "she", "her", "hopped", "Sniff"),
            new Hero("Sam", "dog", "he", "his", "ran", "Woof"),
            new Hero("Rosa", "owl", "she", "her", "flew", "Hoot"),
            new Hero("Max", "mouse", "he", "his", "scurried", "Squeak"),
            new Hero("Zoe", "duck", "she", "her", "waddled", "Quack"));

    private static final List<Place> PLACES = List.of(
            new Place("forest", "in a big green forest", List.of("tree", "log", "bush", "path", "mushroom"),
                    List.of("Tall trees stood all around.", "Leaves fell from the old oak.", "A little path ran between the trees.")),
            new Place("beach", "by the sea on a sandy beach", List.of("rock", "shell", "wave", "dune", "boat"),
                    List.of("The waves rolled on the sand.", "Shells lay all over the beach.", "A crab ran into the water.")),
            new Place("farm", "on a small red farm", List.of("barn", "fence", "haystack", "cow", "tractor"),
                    List.of("The cows ate grass by the barn.", "A hen sat on the fence.", "The hay smelled sweet.")),
            new Place("town", "in a busy little town", List.of("shop", "street", "bench", "bridge", "window"),
                    List.of("People walked down the street.", "The bakery sold warm bread.", "A bell rang in the square.")),
            new Place("mountain", "high up on a mountain", List.of("cliff", "cave", "stone", "peak", "ledge"),
                    List.of("The path went up and up.", "Big stones lay by the cave.", "From the peak you could see far away.")),
            new Place("lake", "next to a quiet blue lake", List.of("pond", "reed", "dock", "lily pad", "frog"),
                    List.of("Fish swam in the clear water.", "A frog sat on a lily pad.", "The reeds moved by the shore.")));

    private static final List<Mood> MOODS = List.of(
            new Mood("happy", List.of("happy", "glad", "cheerful"),
                    List.of("{He} smiled and sang a little song.", "{Name} laughed and jumped up and down.", "{He} danced by the {noun}."),
                    "What a good day!"),
            new Mood("sad", List.of("sad", "lonely", "gloomy"),
                    List.of("{He} sat by the {noun} and cried.", "{Name} sighed and looked at the ground.", "A tear ran down {his} face."),
                    "I miss my old friends."),
            new Mood("scared", List.of("scared", "afraid", "nervous"),
                    List.of("{He} hid behind the {noun} and shook.", "{Name} heard a noise and jumped.", "{His} heart beat fast."),
                    "Is someone there?"),
            new Mood("angry", List.of("angry", "cross", "grumpy"),
                    List.of("{He} stomped {his} feet by the {noun}.", "{Name} kicked a stone and frowned.", "{He} shouted at the sky."),
                    "Leave me alone!"),
            new Mood("curious", List.of("curious", "eager", "puzzled"),
                    List.of("{He} looked under the {noun}.", "{Name} asked a lot of questions.",
                            "{He} wanted to know what was behind the {noun}."),
                    "What is that over there?"));

    private static final List<Thing> THINGS = List.of(
            new Thing("ball", "kick the ball", "bounced"),
            new Thing("kite", "fly the kite", "flew up high"),
            new Thing("key", "open old doors with the key", "shone"),
            new Thing("book", "read the book", "had many pictures"),
            new Thing("hat", "wear the hat", "fit just right"),
            new Thing("lamp", "light the lamp at night", "glowed"));

    private static final List<Weather> WEATHERS = List.of(
            new Weather("sunny",
                    List.of("The sun was bright and warm.", "It was a sunny day with no clouds.", "The sun shone on the {noun}.")),
            new Weather("rainy", List.of("Rain fell all day.", "It was a wet and rainy day.", "Rain dripped from the {noun}.")),
            new Weather("windy", List.of("The wind blew hard.", "It was a cold and windy day.", "The wind shook the {noun}.")),
            new Weather("snowy", List.of("Snow fell softly.", "It was a white and snowy day.", "Snow covered the {noun}.")));

    private static final List<Ending> ENDINGS = List.of(
            new Ending("found", List.of(
                    "Then {name} lost the {thing}, but {he} found it near the {noun}.",
                    "At last {name} found the lost {thing} and took it home.")),
            new Ending("lost", List.of(
                    "Then the {thing} rolled away, and {name} never found it.",
                    "In the end the {thing} was lost, and {name} went home without it.")),
            new Ending("shared", List.of(
                    "Then {name} gave the {thing} to {friend} the {fspecies}, and they played together.",
                    "In the end {name} shared the {thing} with {friend} the {fspecies}.")));

    /** The factor names, in a fixed order: hero, place, mood, object, weather, ending. */
    public static List<String> factorNames() { return List.of("hero", "place", "mood", "object", "weather", "ending"); }

    /** The possible values of factor {@code name}, in words; a story's factor index points into this list. */
    public static List<String> factorValues(String name) {
        return switch (name) {
            case "hero" -> HEROES.stream().map(h -> h.name + " the " + h.species).toList();
            case "place" -> PLACES.stream().map(Place::name).toList();
            case "mood" -> MOODS.stream().map(Mood::name).toList();
            case "object" -> THINGS.stream().map(Thing::name).toList();
            case "weather" -> WEATHERS.stream().map(Weather::name).toList();
            case "ending" -> ENDINGS.stream().map(Ending::name).toList();
            default -> throw new IllegalArgumentException("story corpus: unknown factor '" + name + "', expected one of " + factorNames());
        };
    }

    /** {@code count} stories drawn from a generator seeded with {@code seed}: the same seed gives the same stories. */
    public static List<Story> generate(long seed, int count) {
        if (count < 0) throw new IllegalArgumentException("story corpus: count " + count + " is negative");
        Rng rng = new Rng(seed);
        List<Story> stories = new ArrayList<>(count);
        for (int i = 0; i < count; i++) stories.add(story(rng));
        return stories;
    }

    /** Only the texts of {@code stories}, in order. */
    public static List<String> texts(List<Story> stories) {
        return stories.stream().map(Story::text).toList();
    }

    private static final List<String> COLORS = List.of("red", "blue", "yellow", "green", "little", "shiny", "big", "new");

    private static Story story(Rng rng) {
        int hi = rng.nextInt(HEROES.size()), pi = rng.nextInt(PLACES.size()), mi = rng.nextInt(MOODS.size());
        int ti = rng.nextInt(THINGS.size()), wi = rng.nextInt(WEATHERS.size()), ei = rng.nextInt(ENDINGS.size());
        int fi = (hi + 1 + rng.nextInt(HEROES.size() - 1)) % HEROES.size(); // a friend other than the hero
        Words w = new Words(rng, HEROES.get(hi), PLACES.get(pi), MOODS.get(mi), THINGS.get(ti), HEROES.get(fi),
                COLORS.get(rng.nextInt(COLORS.size())));
        Place place = w.place;
        Mood mood = w.mood;

        List<String> s = new ArrayList<>();
        s.add(pick(rng, List.of(
                "Once upon a time, there was {a species} named {name}.",
                "{Name} was a little {species}.",
                "This is a story about {name} the {species}.")));
        s.add("{Name} lived {place}.");
        if (rng.nextInt(2) == 0) s.add(pick(rng, place.sights));
        s.add(pick(rng, WEATHERS.get(wi).sentences));
        s.add(pick(rng, List.of("{Name} felt {adj} today.", "Today {name} was very {adj}.", "{Name} was {adj} that morning.")));
        s.add(pick(rng, mood.actions));
        s.add(pick(rng, List.of("{Name} had a {color} {thing}.", "{Name} found a {color} {thing} by the {noun}.")));
        if (rng.nextInt(2) == 0) s.add(pick(rng, List.of("{He} liked to {use}.", "The {thing} {good}, and {name} loved it.")));

        // Middle: one to three events, in random order.
        List<String> middle = new ArrayList<>(List.of(
                "{Name} {moved} to the {noun} with the {thing}.",
                "{He} met {friend} the {fspecies} near the {noun}.",
                "\"{sound}!\" said {name}. \"" + mood.speech + "\"",
                pick(rng, mood.actions),
                "{Name} {moved} around the {noun} again and again."));
        shuffle(middle, rng);
        s.addAll(middle.subList(0, 1 + rng.nextInt(3)));

        s.add(pick(rng, ENDINGS.get(ei).sentences));
        if (rng.nextInt(2) == 0) s.add(pick(rng, List.of("{Name} felt {adj} at the end of the day.", "And {name} was still {adj}.")));

        StringBuilder text = new StringBuilder();
        for (String sentence : s) {
            if (!text.isEmpty()) text.append(' ');
            text.append(w.fill(sentence));
        }
        Map<String, Integer> factors = new LinkedHashMap<>();
        factors.put("hero", hi);
        factors.put("place", pi);
        factors.put("mood", mi);
        factors.put("object", ti);
        factors.put("weather", wi);
        factors.put("ending", ei);
        return new Story(text.toString(), Collections.unmodifiableMap(factors));
    }

    private static void shuffle(List<String> list, Rng rng) {
        for (int i = list.size() - 1; i > 0; i--) Collections.swap(list, i, rng.nextInt(i + 1));
    }

    private static String pick(Rng rng, List<String> options) { return options.get(rng.nextInt(options.size())); }

    /** The words of one story: fills {key} slots; {noun} and {adj} draw afresh at each use. */
    private record Words(Rng rng, Hero hero, Place place, Mood mood, Thing thing, Hero friend, String color) {
        String fill(String template) {
            StringBuilder out = new StringBuilder();
            int i = 0;
            while (i < template.length()) {
                int open = template.indexOf('{', i);
                if (open < 0) { out.append(template, i, template.length()); break; }
                int close = template.indexOf('}', open);
                out.append(template, i, open);
                out.append(value(template.substring(open + 1, close)));
                i = close + 1;
            }
            return out.toString();
        }

        private String value(String key) {
            return switch (key) {
                case "name", "Name" -> hero.name;
                case "he" -> hero.he;
                case "He" -> capitalize(hero.he);
                case "his" -> hero.his;
                case "His" -> capitalize(hero.his);
                case "species" -> hero.species;
                case "a species" -> ("aeiou".indexOf(hero.species.charAt(0)) >= 0 ? "an " : "a ") + hero.species;
                case "moved" -> hero.moved;
                case "sound" -> hero.sound;
                case "place" -> place.phrase;
                case "noun" -> pick(rng, place.nouns);
                case "adj" -> pick(rng, mood.adjectives);
                case "thing" -> thing.name;
                case "use" -> thing.use;
                case "good" -> thing.goodAt;
                case "color" -> color;
                case "friend", "Friend" -> friend.name;
                case "fspecies" -> friend.species;
                default -> throw new IllegalStateException("story template: unknown slot {" + key + "}");
            };
        }

        private static String capitalize(String s) { return Character.toUpperCase(s.charAt(0)) + s.substring(1); }
    }
}

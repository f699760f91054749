package dev.ltm.optim.data;

import dev.ltm.model.tokenizer.ByteTokenizer;
import dev.ltm.model.tokenizer.Gpt2Tokenizer;
import dev.ltm.model.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PackingTest {
    private final Tokenizer bytes = new ByteTokenizer();

    @Test
    void concatenatedWindowsAreTheFramedStreamCutInPieces() {
        List<String> docs = List.of("abc", "de", "fghij", "k");
        // Stream: B a b c E B d e E B f g h i j E B k E  (19 tokens) -> 3 windows of 6, 1 dropped.
        Packing.Packed p = Packing.packConcatenated(docs, bytes, 5);
        int B = 256, E = 257;
        assertThat(p.windows()).isDeepEqualTo(new int[][] {
                {B, 'a', 'b', 'c', E, B}, {'d', 'e', E, B, 'f', 'g'}, {'h', 'i', 'j', E, B, 'k'}});
        assertThat(p.lengths()).containsExactly(6, 6, 6);
        assertThat(p.documents()).containsExactly(-1, -1, -1);
        assertThat(p.windowLength()).isEqualTo(6);
        assertThat(p.targetTokens()).isEqualTo(15);

        Packing.Packed q = Packing.packConcatenated(List.of("abcdefgh", "xy"), bytes, 2);
        // B a b | c d e | f g h | E B x  -> the first three lie inside document 0
        assertThat(q.documents()).containsExactly(0, 0, 0, -1);
    }

    @Test
    void perDocumentWindowsArePaddedOrTruncatedWithLengths() {
        Packing.Packed p = Packing.packPerDocument(List.of("hi", "", "abcdefghijk"), bytes, 6, bytes.eos());
        int B = 256, E = 257;
        assertThat(p.windows()).isDeepEqualTo(new int[][] {
                {B, 'h', 'i', E, E, E, E}, {B, E, E, E, E, E, E}, {B, 'a', 'b', 'c', 'd', 'e', 'f'}});
        assertThat(p.lengths()).containsExactly(4, 2, 7);
        assertThat(p.documents()).containsExactly(0, 1, 2);
        assertThat(p.targetTokens()).isEqualTo(3 + 1 + 6);
        assertThatThrownBy(() -> Packing.packPerDocument(List.of("a"), bytes, 4, 258)).hasMessageContaining("pad id 258 out of range");
    }

    @Test
    void tooLittleTextIsAnError() {
        assertThatThrownBy(() -> Packing.packConcatenated(List.of("ab"), bytes, 7))
                .isInstanceOf(DataException.class)
                .hasMessage("corpus too small: 1 documents give 4 tokens, one window needs seqLen + 1 = 8");
        assertThatThrownBy(() -> Packing.packConcatenated(List.of("ab"), bytes, 0)).hasMessageContaining("seqLen 0");
    }

    @Test
    void gpt2FramingUsesItsSpecialIds() {
        Tokenizer gpt2 = new Gpt2Tokenizer();
        assertThat(Packing.frame("Hello world", gpt2)).containsExactly(50257, 15496, 995, 50256);
    }

    @Test
    void splitIsDeterministicDisjointAndCoversEveryDocument() {
        for (int n : new int[] {2, 7, 101}) {
            Dataset.Split a = Dataset.split(n, 0.13, 9);
            assertThat(Dataset.split(n, 0.13, 9)).usingRecursiveComparison().isEqualTo(a);
            Set<Integer> all = new HashSet<>();
            for (int i : a.train()) all.add(i);
            for (int i : a.validation()) assertThat(all.add(i)).isTrue();
            assertThat(all).hasSize(n);
            assertThat(a.validation().length).isEqualTo(Math.max(1, Math.min(n - 1, Math.round(0.13 * n))));
        }
        assertThat(Dataset.split(5, 0, 1).validation()).isEmpty();
        assertThatThrownBy(() -> Dataset.split(5, 1.0, 1)).hasMessageContaining("valFraction 1.0 must be in [0, 1)");
    }

    @Test
    void trainingAndValidationNeverShareADocument() {
        List<StoryCorpus.Story> stories = StoryCorpus.generate(2, 61);
        List<String> texts = StoryCorpus.texts(stories);
        for (Dataset.Layout layout : Dataset.Layout.values()) {
            Dataset ds = Dataset.build(texts, bytes, 64, 0.2, 17, layout);
            assertThat(ds.tokenizer()).isEqualTo("byte");
            assertThat(ds.seqLen()).isEqualTo(64);
            Set<Integer> valDocs = new HashSet<>();
            for (int d : Dataset.split(61, 0.2, 17).validation()) valDocs.add(d);
            // Every window's text, decoded, comes from documents of its own side only.
            for (int w = 0; w < ds.validation().size(); w++) {
                int d = ds.validation().document(w);
                if (d >= 0) assertThat(valDocs).contains(d);
            }
            for (int w = 0; w < ds.train().size(); w++) {
                int d = ds.train().document(w);
                if (d >= 0) assertThat(valDocs).doesNotContain(d);
            }
            Set<String> valTexts = new HashSet<>(), trainTexts = new HashSet<>();
            for (int d = 0; d < texts.size(); d++) (valDocs.contains(d) ? valTexts : trainTexts).add(texts.get(d));
            if (layout == Dataset.Layout.CONCATENATED) {
                assertThat(completeDocuments(ds.validation())).isNotEmpty().allMatch(valTexts::contains);
                assertThat(completeDocuments(ds.train())).isNotEmpty().allMatch(trainTexts::contains);
            } else {
                assertThat(ds.validation().size()).isEqualTo(12);
                for (int w = 0; w < ds.validation().size(); w++) {
                    String story = texts.get(ds.validation().document(w));
                    assertThat(bytes.decode(ds.validation().tokens(w))).isEqualTo(story.substring(0, 64));
                }
            }
            assertThat(ds.train().windowLength()).isEqualTo(65);
        }
        Dataset perDoc = Dataset.build(texts, bytes, 600, 0.2, 17, Dataset.Layout.PER_DOCUMENT);
        assertThat(perDoc.train().size() + perDoc.validation().size()).isEqualTo(61);
        for (int w = 0; w < perDoc.validation().size(); w++) {
            int d = perDoc.validation().document(w);
            int len = perDoc.validation().length(w);
            assertThat(bytes.decode(Arrays.copyOf(perDoc.validation().tokens(w), len))).isEqualTo(texts.get(d));
        }
    }

    /** The texts between a BOS and the next EOS in the token stream of {@code p}'s windows. */
    private List<String> completeDocuments(Windows p) {
        List<String> out = new ArrayList<>();
        List<Integer> current = null;
        for (int w = 0; w < p.size(); w++) {
            int[] window = p.tokens(w);
            for (int i = 0; i < p.length(w); i++) {
                int t = window[i];
                if (t == bytes.bos()) current = new ArrayList<>();
                else if (t == bytes.eos() && current != null) {
                    out.add(bytes.decode(current.stream().mapToInt(Integer::intValue).toArray()));
                    current = null;
                } else if (current != null) current.add(t);
            }
            if (p.length(w) < p.windowLength()) current = null; // a truncated document
        }
        return out;
    }

    private String decodeAll(Windows p) {
        StringBuilder sb = new StringBuilder();
        for (int w = 0; w < p.size(); w++) sb.append(bytes.decode(p.tokens(w))).append('|');
        return sb.toString();
    }

    @Test
    void singleDocumentIsCutAtALineBreak() {
        String text = "line one\nline two\nline three\nline four\nline five\n";
        Dataset ds = Dataset.build(List.of(text), bytes, 4, 0.3, 1, Dataset.Layout.CONCATENATED);
        String train = decodeAll(ds.train()).replace("|", "");
        String val = decodeAll(ds.validation()).replace("|", "");
        // 49 characters, 70% is 34: the cut falls after "line three\n". Each side keeps whole
        // windows of 5 tokens: train B + 29 characters (its EOS dropped), val B + 19 characters.
        assertThat(train).isEqualTo("line one\nline two\nline three\n");
        assertThat(val).isEqualTo("line four\nline five");
    }

    @Test
    void batchesCoverEachEpochOnceInASeededOrder() {
        Packing.Packed p = Packing.packPerDocument(StoryCorpus.texts(StoryCorpus.generate(4, 23)), bytes, 31, bytes.eos());
        Batches a = new Batches(p, 5, 99);
        assertThat(a.batchesPerEpoch()).isEqualTo(4);
        List<Integer> epoch0 = new ArrayList<>(), epoch1 = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Batches.Batch b = a.next();
            assertThat(b.tokens().length).isEqualTo(5);
            assertThat(b.tokens()[0]).hasSize(32);
            assertThat(b.epoch()).isEqualTo(i / 4);
            for (int r = 0; r < b.size(); r++) {
                assertThat(b.tokens()[r]).containsExactly(p.windows()[b.windows()[r]]);
                assertThat(b.lengths()[r]).isEqualTo(p.lengths()[b.windows()[r]]);
                (i < 4 ? epoch0 : epoch1).add(b.windows()[r]);
            }
        }
        assertThat(new HashSet<>(epoch0)).hasSize(20);
        assertThat(new HashSet<>(epoch1)).hasSize(20);
        assertThat(epoch1).isNotEqualTo(epoch0);
        assertThat(a.position()).isEqualTo(8);

        Batches resumed = new Batches(p, 5, 99);
        resumed.skipTo(6);
        Batches fresh = new Batches(p, 5, 99);
        for (int i = 0; i < 6; i++) fresh.next();
        assertThat(resumed.next().windows()).containsExactly(fresh.next().windows());
        assertThat(new Batches(p, 5, 100).next().windows()).isNotEqualTo(new Batches(p, 5, 99).next().windows());

        assertThatThrownBy(() -> new Batches(p, 24, 1)).hasMessage("batches: 23 windows cannot fill one batch of 24");
    }

    @Test
    void inOrderBatchesKeepEveryWindowOnce() {
        Packing.Packed p = Packing.packConcatenated(List.of("abcdefghijklmnopqrstuvwxyz"), bytes, 2); // 28 tokens -> 9 windows
        List<Batches.Batch> batches = Batches.inOrder(p, 4);
        assertThat(batches).extracting(Batches.Batch::size).containsExactly(4, 4, 1);
        assertThat(batches.get(2).windows()).containsExactly(8);
    }
}

package dev.ltm.model.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2 BPE (JTokkit's r50k_base, 50257 ids) plus a begin-of-text id 50257 appended, so the
 * vocabulary has 50258 ids; EOS is GPT-2's own {@code <|endoftext|>} = 50256 (spec section 5).
 */
public final class Gpt2Tokenizer implements Tokenizer {
    /** GPT-2's {@code <|endoftext|>}, used as EOS. */
    public static final int EOS = 50256;
    /** The begin-of-text id added after GPT-2's 50257 ids. */
    public static final int BOS = 50257;

    private final Encoding encoding;

    /** Loads the r50k_base ranks bundled in JTokkit (no network). */
    public Gpt2Tokenizer() {
        this.encoding = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
    }

    @Override public int vocabSize() { return 50258; }

    /** Encodes {@code text} as ordinary text: a literal "<|endoftext|>" in it is spelled out, not made EOS. */
    @Override public int[] encode(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    /**
     * Drops BOS and EOS and decodes the rest; bytes that do not form valid UTF-8 (a cut through a
     * multi-byte character) become U+FFFD.
     */
    @Override public String decode(int[] ids) {
        IntArrayList list = new IntArrayList(ids.length);
        for (int id : ids) {
            if (id < 0 || id >= vocabSize()) {
                throw new IllegalArgumentException("gpt2 tokenizer: id " + id + " out of range [0, " + vocabSize() + ")");
            }
            if (id != BOS && id != EOS) list.add(id);
        }
        return new String(encoding.decodeBytes(list), StandardCharsets.UTF_8);
    }

    @Override public String name() { return "gpt2"; }
    @Override public int bos() { return BOS; }
    @Override public int eos() { return EOS; }
    @Override public String toString() { return "Gpt2Tokenizer[r50k_base + BOS, vocab=50258]"; }
}

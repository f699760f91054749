package dev.ltm.model.tokenizer;

/**
 * Maps text to token ids and back. Every tokenizer has a begin-of-text and an end-of-text id;
 * a document is fed to the model as {@code bos, encode(text)..., eos} (spec section 5).
 */
public interface Tokenizer {

    /** Number of distinct ids, specials included: every id lies in {@code [0, vocabSize())}. */
    int vocabSize();

    /** The ids of {@code text}, without BOS or EOS. */
    int[] encode(String text);

    /** The text of {@code ids}; special ids are dropped. */
    String decode(int[] ids);

    /** A short name that selects this tokenizer in {@link Tokenizers#byName} and in configs. */
    String name();

    /** The begin-of-text id. */
    int bos();

    /** The end-of-text id. */
    int eos();
}

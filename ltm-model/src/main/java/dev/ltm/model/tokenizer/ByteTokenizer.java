package dev.ltm.model.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * Byte-level tokenizer: each UTF-8 byte is its own id 0..255, then BOS = 256 and EOS = 257,
 * so the vocabulary has 258 ids. For tiny demos where a 50k-row embedding would dominate.
 */
public final class ByteTokenizer implements Tokenizer {
    /** The begin-of-text id. */
    public static final int BOS = 256;
    /** The end-of-text id. */
    public static final int EOS = 257;

    @Override public int vocabSize() { return 258; }

    @Override public int[] encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) ids[i] = bytes[i] & 0xFF;
        return ids;
    }

    /** Drops BOS and EOS, decodes the bytes as UTF-8 and replaces malformed sequences with U+FFFD. */
    @Override public String decode(int[] ids) {
        byte[] bytes = new byte[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id < 0 || id >= vocabSize()) {
                throw new IllegalArgumentException("byte tokenizer: id " + id + " out of range [0, " + vocabSize() + ")");
            }
            if (id < 256) bytes[n++] = (byte) id;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }

    @Override public String name() { return "byte"; }
    @Override public int bos() { return BOS; }
    @Override public int eos() { return EOS; }
    @Override public String toString() { return "ByteTokenizer[vocab=258]"; }
}

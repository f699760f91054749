package dev.ltm.model;

import java.util.List;

/**
 * The names under which the model's weights are stored, in safetensors checkpoints and in
 * {@link Params}: the one place that spells them (renaming one breaks every saved checkpoint).
 */
public final class WeightNames {
    /** The token embedding [V, H], tied to the output head. */
    public static final String TOKEN_EMBEDDING = "tok_emb";
    /** The gain [H] of the final RMSNorm. */
    public static final String FINAL_NORM = "norm_f.g";

    private WeightNames() {}

    /** The four projections of one attention block: {@code prefix.wq}, {@code .wk}, {@code .wv}, {@code .wo}. */
    public record Projections(String wq, String wk, String wv, String wo) {
        static Projections under(String prefix) {
            return new Projections(prefix + "wq", prefix + "wk", prefix + "wv", prefix + "wo");
        }
    }

    /**
     * The weights of decoder layer l, all under {@code layers.l.}: self-attention's norm and
     * projections, cross-attention's (present when N_z > 0), the feed-forward norm and SwiGLU's w1, w2, w3.
     */
    public record Layer(String attnNorm, Projections attn, String crossNorm, Projections cross,
                        String ffnNorm, String w1, String w2, String w3) {
        /** The output projections that spec section 1 initialises with std / sqrt(2L). */
        public List<String> residualOutputs() { return List.of(attn.wo(), cross.wo(), w3); }
    }

    /** The names of layer {@code l}'s weights. */
    public static Layer layer(int l) {
        String n = "layers." + l + ".";
        return new Layer(n + "attn_norm.g", Projections.under(n + "attn."), n + "cross_norm.g", Projections.under(n + "cross."),
                n + "ffn_norm.g", n + "ffn.w1", n + "ffn.w2", n + "ffn.w3");
    }
}

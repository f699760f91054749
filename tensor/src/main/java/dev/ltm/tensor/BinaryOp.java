package dev.ltm.tensor;

/** Elementwise binary operations. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV;

    /** Scalar definition, the reference for every kernel. */
    public float apply(float a, float b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
        };
    }
}

package dev.ltm.tensor;

/** Elementwise unary operations. */
public enum UnaryOp {
    NEG, EXP, LOG, SQRT, SQUARE, SILU, SIGMOID, TANH, ABS;

    /** Scalar definition, the reference for every kernel. */
    public float apply(float x) {
        return switch (this) {
            case NEG -> -x;
            case EXP -> (float) Math.exp(x);
            case LOG -> (float) Math.log(x);
            case SQRT -> (float) Math.sqrt(x);
            case SQUARE -> x * x;
            case SILU -> (float) (x / (1 + Math.exp(-x)));
            case SIGMOID -> (float) (1 / (1 + Math.exp(-x)));
            case TANH -> (float) Math.tanh(x);
            case ABS -> Math.abs(x);
        };
    }
}

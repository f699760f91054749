package dev.ltm.tensor;

/** Placeholder GEMM with the final signature; replaced by the packed kernel on merge. */
public final class Gemm {
    private Gemm() {}

    /** C = (accumulate ? C : 0) + op(A) op(B), row-major. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                             float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float acc = 0;
                for (int p = 0; p < k; p++) {
                    float x = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float y = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    acc += x * y;
                }
                c[cOff + i * ldc + j] = accumulate ? c[cOff + i * ldc + j] + acc : acc;
            }
        }
    }
}

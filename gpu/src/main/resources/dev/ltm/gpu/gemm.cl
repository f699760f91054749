// C = (accumulate ? C : 0) + op(A) op(B), row-major float32, batched over get_global_id(2).
//   op(A) is [M, K]: A stored [M, K] (lda = K) or, when transA, [K, M] (lda = M).
//   op(B) is [K, N]: B stored [K, N] (ldb = N) or, when transB, [N, K] (ldb = K).
//   C is [M, N] (ldc = N). Batch b adds b * stride to each offset.
// One work group of 16x16 items computes a 64x64 tile of C; each item computes 4x4 outputs spaced
// 16 apart. K advances in steps of 16 through __local tiles; out-of-range elements load as 0.
#define TM 64
#define TN 64
#define TK 16
#define WG 16
#define RM (TM / WG)
#define RN (TN / WG)

__kernel __attribute__((reqd_work_group_size(WG, WG, 1)))
void sgemm(const int transA, const int transB, const int M, const int N, const int K,
           __global const float* A, const int offA, const int strideA,
           __global const float* B, const int offB, const int strideB,
           __global float* C, const int offC, const int strideC, const int accumulate) {
    __local float As[TK][TM];
    __local float Bs[TK][TN];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int tid = ty * WG + tx;
    const int row0 = get_group_id(1) * TM, col0 = get_group_id(0) * TN;
    const int batch = get_global_id(2);
    A += offA + batch * strideA;
    B += offB + batch * strideB;
    C += offC + batch * strideC;
    const int lda = transA ? M : K, ldb = transB ? K : N;

    float acc[RM][RN];
    for (int r = 0; r < RM; r++) for (int c = 0; c < RN; c++) acc[r][c] = 0.0f;

    for (int p0 = 0; p0 < K; p0 += TK) {
        // Each of the 256 items loads 4 elements of each tile, walking the stored layout's
        // contiguous axis so that neighbouring items read neighbouring addresses.
        for (int l = 0; l < (TM * TK) / (WG * WG); l++) {
            int e = tid + l * WG * WG;
            int i, p;
            if (transA) { p = e / TM; i = e % TM; } else { i = e / TK; p = e % TK; }
            int gi = row0 + i, gp = p0 + p;
            float v = 0.0f;
            if (gi < M && gp < K) v = transA ? A[gp * lda + gi] : A[gi * lda + gp];
            As[p][i] = v;
        }
        for (int l = 0; l < (TN * TK) / (WG * WG); l++) {
            int e = tid + l * WG * WG;
            int j, p;
            if (transB) { j = e / TK; p = e % TK; } else { p = e / TN; j = e % TN; }
            int gj = col0 + j, gp = p0 + p;
            float v = 0.0f;
            if (gj < N && gp < K) v = transB ? B[gj * ldb + gp] : B[gp * ldb + gj];
            Bs[p][j] = v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int p = 0; p < TK; p++) {
            float a[RM], b[RN];
            for (int r = 0; r < RM; r++) a[r] = As[p][ty + r * WG];
            for (int c = 0; c < RN; c++) b[c] = Bs[p][tx + c * WG];
            for (int r = 0; r < RM; r++)
                for (int c = 0; c < RN; c++) acc[r][c] = fma(a[r], b[c], acc[r][c]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int r = 0; r < RM; r++) {
        int i = row0 + ty + r * WG;
        if (i >= M) continue;
        for (int c = 0; c < RN; c++) {
            int j = col0 + tx + c * WG;
            if (j < N) C[i * N + j] = accumulate ? C[i * N + j] + acc[r][c] : acc[r][c];
        }
    }
}

// The obvious kernel, one item per output: the reference the tiled kernel is checked against on-device.
__kernel void sgemm_naive(const int transA, const int transB, const int M, const int N, const int K,
                          __global const float* A, const int offA, __global const float* B, const int offB,
                          __global float* C, const int offC, const int accumulate) {
    const int j = get_global_id(0), i = get_global_id(1);
    if (i >= M || j >= N) return;
    float s = 0.0f;
    for (int p = 0; p < K; p++) {
        float a = transA ? A[offA + p * M + i] : A[offA + i * K + p];
        float b = transB ? B[offB + j * K + p] : B[offB + p * N + j];
        s += a * b;
    }
    C[offC + i * N + j] = accumulate ? C[offC + i * N + j] + s : s;
}

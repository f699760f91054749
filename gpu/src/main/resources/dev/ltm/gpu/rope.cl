// Rotary position embedding on x [B, T, nHeads, hd], positions int [T] (shared by the batch),
// invFreq [hd / 2] with invFreq[i] = 1 / theta^(2i / hd) computed on the host as the CPU does. Pair (2i, 2i+1) of each head turns by
// angle = position * invFreq[i]: forward (sign = +1) by +angle, backward (sign = -1) by -angle.
// One work item per pair; out may be x itself.
__kernel void rope(const int N, const int T, const int nHeads, const int hd, const float sign,
                   __global const float* x, __global const int* positions, __global const float* invFreq,
                   __global float* out) {
    const int pair = get_global_id(0);
    const int pairs = hd / 2;
    if (pair >= N * nHeads * pairs) return;
    const int i = pair % pairs;
    const int token = pair / (nHeads * pairs);
    const float angle = (float) positions[token % T] * invFreq[i];
    const float c = cos(angle), s = sign * sin(angle);
    const int e = pair * 2;
    const float x0 = x[e], x1 = x[e + 1];
    out[e] = x0 * c - x1 * s;
    out[e + 1] = x0 * s + x1 * c;
}

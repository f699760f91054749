// Fused scaled-dot-product attention, built with -DHD=<head dim>.
// Layout: q [B, T, nH, HD], k and v [B, S, nKv, HD], out [B, T, nH, HD], lse [B, nH, T];
// query head h reads kv head h / (nH / nKv) (grouped-query attention).
// window > 0: causal sliding window (S == T), query i sees keys j in [max(0, i - window + 1), i].
// window == 0: no mask (cross-attention), every query sees all S keys.

// The keys query i sees: [*j0, *j1).
void key_range(const int i, const int S, const int window, int* j0, int* j1) {
    if (window > 0) { *j0 = max(0, i - window + 1); *j1 = i + 1; }
    else { *j0 = 0; *j1 = S; }
}

// One work item per (query i, head h, batch b): online softmax over the visible keys, so the
// [T, S] score matrix never exists. lse = log sum_j exp(s_ij) is kept for the backward pass.
__kernel void attention_forward(const int T, const int S, const int nH, const int nKv, const int window,
                                const float scale, __global const float* q, __global const float* k,
                                __global const float* v, __global float* out, __global float* lse) {
    const int i = get_global_id(0), h = get_global_id(1), b = get_global_id(2);
    if (i >= T) return;
    const int g = h / (nH / nKv);
    const __global float* qi = q + ((b * T + i) * nH + h) * HD;
    float qs[HD], acc[HD];
    for (int d = 0; d < HD; d++) { qs[d] = qi[d]; acc[d] = 0.0f; }
    int j0, j1;
    key_range(i, S, window, &j0, &j1);
    float m = -INFINITY, l = 0.0f;
    for (int j = j0; j < j1; j++) {
        const __global float* kj = k + ((b * S + j) * nKv + g) * HD;
        const __global float* vj = v + ((b * S + j) * nKv + g) * HD;
        float s = 0.0f;
        for (int d = 0; d < HD; d++) s += qs[d] * kj[d];
        s *= scale;
        const float mNew = fmax(m, s);
        const float c = exp(m - mNew); // rescales what was accumulated under the old max (0 at first)
        const float p = exp(s - mNew);
        l = l * c + p;
        for (int d = 0; d < HD; d++) acc[d] = acc[d] * c + p * vj[d];
        m = mNew;
    }
    __global float* oi = out + ((b * T + i) * nH + h) * HD;
    const float inv = 1.0f / l;
    for (int d = 0; d < HD; d++) oi[d] = acc[d] * inv;
    lse[(b * nH + h) * T + i] = m + log(l);
}

// delta [B, nH, T] = sum_d dout * out, the row term of the softmax backward.
__kernel void attention_backward_delta(const int T, const int nH, __global const float* out,
                                       __global const float* dout, __global float* delta) {
    const int i = get_global_id(0), h = get_global_id(1), b = get_global_id(2);
    if (i >= T) return;
    const int o = ((b * T + i) * nH + h) * HD;
    float s = 0.0f;
    for (int d = 0; d < HD; d++) s += dout[o + d] * out[o + d];
    delta[(b * nH + h) * T + i] = s;
}

// dq_i += scale * sum_j p_ij (dout_i . v_j - delta_i) k_j, with p_ij = exp(scale q_i . k_j - lse_i);
// one item per query, so no two items write the same dq row.
__kernel void attention_backward_dq(const int T, const int S, const int nH, const int nKv, const int window,
                                    const float scale, __global const float* q, __global const float* k,
                                    __global const float* v, __global const float* dout,
                                    __global const float* lse, __global const float* delta, __global float* dq) {
    const int i = get_global_id(0), h = get_global_id(1), b = get_global_id(2);
    if (i >= T) return;
    const int g = h / (nH / nKv);
    const int o = ((b * T + i) * nH + h) * HD;
    float qs[HD], dos[HD], acc[HD];
    for (int d = 0; d < HD; d++) { qs[d] = q[o + d]; dos[d] = dout[o + d]; acc[d] = 0.0f; }
    const float L = lse[(b * nH + h) * T + i], D = delta[(b * nH + h) * T + i];
    int j0, j1;
    key_range(i, S, window, &j0, &j1);
    for (int j = j0; j < j1; j++) {
        const __global float* kj = k + ((b * S + j) * nKv + g) * HD;
        const __global float* vj = v + ((b * S + j) * nKv + g) * HD;
        float s = 0.0f, dp = 0.0f;
        for (int d = 0; d < HD; d++) { s += qs[d] * kj[d]; dp += dos[d] * vj[d]; }
        const float ds = exp(s * scale - L) * (dp - D);
        for (int d = 0; d < HD; d++) acc[d] += ds * kj[d];
    }
    for (int d = 0; d < HD; d++) dq[o + d] += scale * acc[d];
}

// For key j of kv head g: dv_j += sum p_ij dout_i and dk_j += scale * sum p_ij (dout_i . v_j - delta_i) q_i,
// over the query heads that share g and the queries that see j; one item per key, so no write races.
__kernel void attention_backward_dkdv(const int T, const int S, const int nH, const int nKv, const int window,
                                      const float scale, __global const float* q, __global const float* k,
                                      __global const float* v, __global const float* dout,
                                      __global const float* lse, __global const float* delta,
                                      __global float* dk, __global float* dv) {
    const int j = get_global_id(0), g = get_global_id(1), b = get_global_id(2);
    if (j >= S) return;
    const int group = nH / nKv;
    const int o = ((b * S + j) * nKv + g) * HD;
    float ks[HD], vs[HD], dka[HD], dva[HD];
    for (int d = 0; d < HD; d++) { ks[d] = k[o + d]; vs[d] = v[o + d]; dka[d] = 0.0f; dva[d] = 0.0f; }
    // The queries that see key j: [j, j + window) clipped to T under the sliding window, else all.
    const int i0 = window > 0 ? j : 0;
    const int i1 = window > 0 ? min(T, j + window) : T;
    for (int h = g * group; h < (g + 1) * group; h++) {
        for (int i = i0; i < i1; i++) {
            const int qo = ((b * T + i) * nH + h) * HD;
            float s = 0.0f, dp = 0.0f;
            for (int d = 0; d < HD; d++) { s += q[qo + d] * ks[d]; dp += dout[qo + d] * vs[d]; }
            const float p = exp(s * scale - lse[(b * nH + h) * T + i]);
            const float ds = p * (dp - delta[(b * nH + h) * T + i]);
            for (int d = 0; d < HD; d++) { dva[d] += p * dout[qo + d]; dka[d] += ds * q[qo + d]; }
        }
    }
    for (int d = 0; d < HD; d++) { dk[o + d] += scale * dka[d]; dv[o + d] += dva[d]; }
}

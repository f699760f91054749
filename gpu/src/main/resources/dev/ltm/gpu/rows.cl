// Row-wise ops over x [rows, cols] (row-major): one work group of RW items per row, reducing
// through __local memory. Also the sum reductions.
#define RW 128

float group_sum(__local float* s, float v) {
    const int t = get_local_id(0);
    s[t] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int off = RW / 2; off > 0; off >>= 1) {
        if (t < off) s[t] += s[t + off];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = s[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

float group_max(__local float* s, float v) {
    const int t = get_local_id(0);
    s[t] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int off = RW / 2; off > 0; off >>= 1) {
        if (t < off) s[t] = fmax(s[t], s[t + off]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = s[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

// y = x / sqrt(mean(x^2) + eps) * g, g [cols]; rstd [rows] receives 1 / sqrt(mean(x^2) + eps) when not NULL.
__kernel __attribute__((reqd_work_group_size(RW, 1, 1)))
void rmsnorm_forward(const int cols, const float eps, __global const float* x, __global const float* g,
                     __global float* y, __global float* rstd) {
    __local float s[RW];
    const int t = get_local_id(0), r = get_group_id(0);
    x += r * cols; y += r * cols;
    float ss = 0.0f;
    for (int c = t; c < cols; c += RW) ss += x[c] * x[c];
    ss = group_sum(s, ss);
    const float inv = 1.0f / sqrt(ss / cols + eps);
    for (int c = t; c < cols; c += RW) y[c] = x[c] * inv * g[c];
    if (rstd && t == 0) rstd[r] = inv;
}

// dx from the forward pass's rstd [rows]: dx = rstd * (dy g - x rstd^2 mean(dy g x)), the CPU formula.
__kernel __attribute__((reqd_work_group_size(RW, 1, 1)))
void rmsnorm_backward_saved(const int cols, __global const float* x, __global const float* g,
                            __global const float* dy, __global const float* rstd, __global float* dx) {
    __local float s[RW];
    const int t = get_local_id(0), r = get_group_id(0);
    x += r * cols; dy += r * cols; dx += r * cols;
    const float inv = rstd[r];
    float d = 0.0f;
    for (int c = t; c < cols; c += RW) d += dy[c] * g[c] * x[c];
    d = group_sum(s, d) * inv / cols;
    for (int c = t; c < cols; c += RW) dx[c] = inv * (dy[c] * g[c] - x[c] * inv * d);
}

// dg[c] += sum over rows of dy[r, c] * x[r, c] * rstd[r]; one item per column (no write races).
__kernel void rmsnorm_backward_gamma(const int rows, const int cols, __global const float* x,
                                     __global const float* dy, __global const float* rstd, __global float* dg) {
    const int c = get_global_id(0);
    if (c >= cols) return;
    float acc = 0.0f;
    for (int r = 0; r < rows; r++) acc += dy[r * cols + c] * x[r * cols + c] * rstd[r];
    dg[c] += acc;
}

// Per row of logits [rows, V] with target id (negative = ignored row: loss 0, no gradient):
// loss[r] = logsumexp(x) - x[target]; when dlogits is not NULL it gets (softmax(x) - onehot) * scale,
// times rowScale[r] when rowScale is not NULL, times upstream[0] when upstream is not NULL.
__kernel __attribute__((reqd_work_group_size(RW, 1, 1)))
void cross_entropy(const int V, __global const float* logits, __global const int* targets,
                   __global float* loss, __global float* dlogits, const float scale,
                   __global const float* rowScale, __global const float* upstream) {
    __local float s[RW];
    const int t = get_local_id(0), r = get_group_id(0);
    const int target = targets[r];
    // No early return for an ignored row: every item of the group must reach the barriers (PoCL
    // miscompiles a return ahead of them), so the row is reduced and its results are zeroed.
    const int ignored = target < 0;
    logits += r * V;
    float m = -INFINITY;
    for (int c = t; c < V; c += RW) m = fmax(m, logits[c]);
    m = group_max(s, m);
    float z = 0.0f;
    for (int c = t; c < V; c += RW) z += exp(logits[c] - m);
    z = group_sum(s, z);
    const float lse = m + log(z);
    if (t == 0) loss[r] = ignored ? 0.0f : lse - logits[target];
    if (dlogits) {
        __global float* d = dlogits + r * V;
        const float k = ignored ? 0.0f : scale * (rowScale ? rowScale[r] : 1.0f) * (upstream ? upstream[0] : 1.0f);
        for (int c = t; c < V; c += RW) d[c] = ignored ? 0.0f : (exp(logits[c] - lse) - (c == target ? 1.0f : 0.0f)) * k;
    }
}

// partial[group] = sum of x[i] for i = group * RW + t (mod the grid); run twice for a total.
__kernel __attribute__((reqd_work_group_size(RW, 1, 1)))
void partial_sums(const int n, __global const float* x, __global float* partial) {
    __local float s[RW];
    const int stride = get_global_size(0);
    float acc = 0.0f;
    for (int i = get_global_id(0); i < n; i += stride) acc += x[i];
    acc = group_sum(s, acc);
    if (get_local_id(0) == 0) partial[get_group_id(0)] = acc;
}

// Elementwise ops over n floats, one work item per element.
// Broadcasting: operand x of a binary op is read at ((i / xInner) % xLen). A full-size operand has
// xLen = n, xInner = 1; a trailing-dims operand (b [cols] against a [rows, cols]) has xLen = cols,
// xInner = 1; a column operand (b [rows, 1] against a [rows, cols]) has xLen = rows, xInner = cols.

#define OP_ADD 0
#define OP_SUB 1
#define OP_MUL 2
#define OP_DIV 3

__kernel void binary(const int op, const int n,
                     __global const float* a, const int aLen, const int aInner,
                     __global const float* b, const int bLen, const int bInner,
                     __global float* out) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float x = a[(i / aInner) % aLen];
    const float y = b[(i / bInner) % bLen];
    float r;
    switch (op) {
        case OP_ADD: r = x + y; break;
        case OP_SUB: r = x - y; break;
        case OP_MUL: r = x * y; break;
        default:     r = x / y; break;
    }
    out[i] = r;
}

// out = a * s
__kernel void scale(const int n, __global const float* a, const float s, __global float* out) {
    const int i = get_global_id(0);
    if (i < n) out[i] = a[i] * s;
}

// y += alpha * x (gradient accumulation)
__kernel void axpy(const int n, const float alpha, __global const float* x, __global float* y) {
    const int i = get_global_id(0);
    if (i < n) y[i] = fma(alpha, x[i], y[i]);
}

__kernel void exp_forward(const int n, __global const float* a, __global float* out) {
    const int i = get_global_id(0);
    if (i < n) out[i] = exp(a[i]);
}

__kernel void log_forward(const int n, __global const float* a, __global float* out) {
    const int i = get_global_id(0);
    if (i < n) out[i] = log(a[i]);
}

// silu(x) = x * sigmoid(x)
__kernel void silu_forward(const int n, __global const float* x, __global float* out) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float v = x[i];
    out[i] = v / (1.0f + exp(-v));
}

// dx = dy * silu'(x), silu'(x) = s + x s (1 - s) with s = sigmoid(x)
__kernel void silu_backward(const int n, __global const float* x, __global const float* dy, __global float* dx) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float v = x[i];
    const float s = 1.0f / (1.0f + exp(-v));
    dx[i] = dy[i] * (s + v * s * (1.0f - s));
}

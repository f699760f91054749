// Elementwise ops over n floats, one work item per element.
// Broadcasting: operand x of a binary op is read at ((i / xInner) % xLen). A full-size operand has
// xLen = n, xInner = 1; a trailing-dims operand (b [cols] against a [rows, cols]) has xLen = cols,
// xInner = 1; a column operand (b [rows, 1] against a [rows, cols]) has xLen = rows, xInner = cols.

#define OP_ADD 0
#define OP_SUB 1
#define OP_MUL 2
#define OP_DIV 3

// x OP y for one of the codes above (OP_DIV for any other).
float binary_op(const int op, const float x, const float y) {
    switch (op) {
        case OP_ADD: return x + y;
        case OP_SUB: return x - y;
        case OP_MUL: return x * y;
        default:     return x / y;
    }
}

__kernel void binary(const int op, const int n,
                     __global const float* a, const int aLen, const int aInner,
                     __global const float* b, const int bLen, const int bInner,
                     __global float* out) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float x = a[(i / aInner) % aLen];
    const float y = b[(i / bInner) % bLen];
    out[i] = binary_op(op, x, y);
}

// out = a * mul + add
__kernel void affine(const int n, __global const float* a, const float mul, const float add, __global float* out) {
    const int i = get_global_id(0);
    if (i < n) out[i] = fma(a[i], mul, add);
}

// y += alpha * x (gradient accumulation)
__kernel void axpy(const int n, const float alpha, __global const float* x, __global float* y) {
    const int i = get_global_id(0);
    if (i < n) y[i] = fma(alpha, x[i], y[i]);
}

// out = op(a), the ops in ClKernels.UnaryOp order (and dev.ltm.tensor.UnaryOp).
__kernel void unary(const int op, const int n, __global const float* a, __global float* out) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float x = a[i];
    float r;
    switch (op) {
        case 0: r = -x; break;
        case 1: r = exp(x); break;
        case 2: r = log(x); break;
        case 3: r = sqrt(x); break;
        case 4: r = x * x; break;
        case 5: r = x / (1.0f + exp(-x)); break;
        case 6: r = 1.0f / (1.0f + exp(-x)); break;
        case 7: r = tanh(x); break;
        default: r = fabs(x); break;
    }
    out[i] = r;
}

// The general NumPy-broadcast form: out is contiguous with shape dims (rank 8, leading 1s), and
// operand x is read at xOff + sum_k idx_k * xStrides_k, where a broadcast axis has stride 0.
int strided_index(int e, const int8 dims, const int8 strides) {
    const int d[8] = {dims.s0, dims.s1, dims.s2, dims.s3, dims.s4, dims.s5, dims.s6, dims.s7};
    const int s[8] = {strides.s0, strides.s1, strides.s2, strides.s3, strides.s4, strides.s5, strides.s6, strides.s7};
    int at = 0;
    for (int k = 7; k >= 0; k--) {
        at += (e % d[k]) * s[k];
        e /= d[k];
    }
    return at;
}

__kernel void binary_strided(const int op, const int n, const int8 dims,
                             __global const float* a, const int aOff, const int8 aStrides,
                             __global const float* b, const int bOff, const int8 bStrides,
                             __global float* out) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float x = a[aOff + strided_index(i, dims, aStrides)];
    const float y = b[bOff + strided_index(i, dims, bStrides)];
    out[i] = binary_op(op, x, y);
}

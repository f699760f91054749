// Layout ops: strided copies (permute, slice, concat, broadcast materialisation) and reductions
// over one axis. Shapes are rank 8 with leading 1s; strides are in elements.

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

// For every index of shape dims: dst[dstOff + idx . dstStrides] = src[srcOff + idx . srcStrides].
__kernel void copy_strided(const int n, const int8 dims,
                           __global const float* src, const int srcOff, const int8 srcStrides,
                           __global float* dst, const int dstOff, const int8 dstStrides) {
    const int e = get_global_id(0);
    if (e >= n) return;
    dst[dstOff + strided_index(e, dims, dstStrides)] = src[srcOff + strided_index(e, dims, srcStrides)];
}

// x viewed as [outer, len, inner]: out[o, i] = sum over a of x[o, a, i] (sumTo's reduction).
// One item per output walks the axis, so any axis reduces without atomics.
__kernel void sum_axis(const int outer, const int len, const int inner, __global const float* x, __global float* out) {
    const int e = get_global_id(0);
    if (e >= outer * inner) return;
    const int o = e / inner, i = e % inner;
    __global const float* p = x + o * len * inner + i;
    float acc = 0.0f;
    for (int a = 0; a < len; a++) acc = acc + p[a * inner];
    out[e] = acc;
}

// Embedding table [V, D], ids int [N]. Gather: out [N, D] = table[ids]. Backward: dtable[ids[i]] += dout[i].

__kernel void embedding_forward(const int N, const int D, __global const float* table, __global const int* ids,
                                __global float* out) {
    const int e = get_global_id(0);
    if (e >= N * D) return;
    const int i = e / D, d = e % D;
    out[e] = table[ids[i] * D + d];
}

// One item per column d walks the ids in order: repeated ids add up without atomics and the
// result is deterministic.
__kernel void embedding_backward(const int N, const int D, __global const float* dout, __global const int* ids,
                                 __global float* dtable) {
    const int d = get_global_id(0);
    if (d >= D) return;
    for (int i = 0; i < N; i++) dtable[ids[i] * D + d] += dout[i * D + d];
}

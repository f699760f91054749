// AdamW in place, as torch.optim.AdamW: decoupled weight decay p -= lr * wd * p, then
// m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, p -= lr * (m / bc1) / (sqrt(v / bc2) + eps),
// where bc1 = 1 - b1^t and bc2 = 1 - b2^t come from the host.
__kernel void adamw(const int n, __global float* p, __global const float* grad, __global float* m,
                    __global float* v, const float lr, const float b1, const float b2, const float eps,
                    const float wd, const float bc1, const float bc2) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float g = grad[i];
    float w = p[i];
    w -= lr * wd * w;
    const float mi = b1 * m[i] + (1.0f - b1) * g;
    const float vi = b2 * v[i] + (1.0f - b2) * g * g;
    m[i] = mi;
    v[i] = vi;
    p[i] = w - lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
}

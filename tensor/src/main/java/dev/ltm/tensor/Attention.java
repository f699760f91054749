package dev.ltm.tensor;

/** Placeholder attention with the final signatures; replaced by the fused kernel on merge. */
public final class Attention {
    private Attention() {}

    public static void forward(float[] q, float[] k, float[] v, float[] out, float[] lse,
                               int batch, int tq, int tk, int nHeads, int nKvHeads, int headDim, int window) {
        float scale = (float) (1 / Math.sqrt(headDim));
        int group = nHeads / nKvHeads;
        for (int b = 0; b < batch; b++) for (int h = 0; h < nHeads; h++) for (int i = 0; i < tq; i++) {
            int kh = h / group;
            int lo = window > 0 ? Math.max(0, i - window + 1) : 0, hi = window > 0 ? i : tk - 1;
            double[] s = new double[hi - lo + 1];
            double mx = Double.NEGATIVE_INFINITY;
            for (int j = lo; j <= hi; j++) {
                double d = 0;
                for (int x = 0; x < headDim; x++) d += q[((b * tq + i) * nHeads + h) * headDim + x] * k[((b * tk + j) * nKvHeads + kh) * headDim + x];
                s[j - lo] = d * scale;
                mx = Math.max(mx, s[j - lo]);
            }
            double sum = 0;
            for (int j = lo; j <= hi; j++) sum += Math.exp(s[j - lo] - mx);
            lse[(b * nHeads + h) * tq + i] = (float) (mx + Math.log(sum));
            for (int x = 0; x < headDim; x++) {
                double acc = 0;
                for (int j = lo; j <= hi; j++) acc += Math.exp(s[j - lo] - mx) / sum * v[((b * tk + j) * nKvHeads + kh) * headDim + x];
                out[((b * tq + i) * nHeads + h) * headDim + x] = (float) acc;
            }
        }
    }

    public static void backward(float[] q, float[] k, float[] v, float[] out, float[] lse, float[] dOut,
                                float[] dq, float[] dk, float[] dv,
                                int batch, int tq, int tk, int nHeads, int nKvHeads, int headDim, int window) {
        float scale = (float) (1 / Math.sqrt(headDim));
        int group = nHeads / nKvHeads;
        for (int b = 0; b < batch; b++) for (int h = 0; h < nHeads; h++) for (int i = 0; i < tq; i++) {
            int kh = h / group, qo = ((b * tq + i) * nHeads + h) * headDim;
            int lo = window > 0 ? Math.max(0, i - window + 1) : 0, hi = window > 0 ? i : tk - 1;
            double dd = 0;
            for (int x = 0; x < headDim; x++) dd += dOut[qo + x] * out[qo + x];
            for (int j = lo; j <= hi; j++) {
                int ko = ((b * tk + j) * nKvHeads + kh) * headDim;
                double s = 0, dp = 0;
                for (int x = 0; x < headDim; x++) { s += q[qo + x] * k[ko + x]; dp += dOut[qo + x] * v[ko + x]; }
                double p = Math.exp(s * scale - lse[(b * nHeads + h) * tq + i]);
                double ds = p * (dp - dd);
                for (int x = 0; x < headDim; x++) {
                    if (dv != null) dv[ko + x] += (float) (p * dOut[qo + x]);
                    if (dq != null) dq[qo + x] += (float) (scale * ds * k[ko + x]);
                    if (dk != null) dk[ko + x] += (float) (scale * ds * q[qo + x]);
                }
            }
        }
    }
}

package dev.ltm.autograd;

import dev.ltm.tensor.Rng;
import dev.ltm.tensor.Tensor;
import java.util.function.Function;

/**
 * Finite-difference gradient checker. The function's output is reduced to a scalar loss
 * {@code sum(out * w)} with fixed random weights w (|w| in [0.5, 1.5]), accumulated in double; each input element
 * is perturbed by +-h and the central difference is compared with the gradient from
 * {@link Tape#backward}.
 */
public final class GradCheck {
    private GradCheck() {}

    /** The worst relative error over all checked elements, and where it happened. */
    public record Result(double maxRelativeError, int input, int index, double analytic, double numeric) {}

    /**
     * Checks {@code f} at {@code inputs}: every element of every input (or a seeded sample of at most
     * {@code maxPerInput} of them) gets a central difference with step {@code h}. The relative error
     * is |a - n| / max(|a|, |n|, floor) with floor = 1e-2 * (largest gradient magnitude seen + 1e-6)
     * so that near-zero entries are judged against the gradient's scale.
     */
    public static Result check(Function<Var[], Var> f, Tensor[] inputs, double h, int maxPerInput, long seed) {
        Rng rng = new Rng(seed);
        Var[] vars = new Var[inputs.length];
        for (int i = 0; i < inputs.length; i++) vars[i] = Var.param(inputs[i]);
        Var out = f.apply(vars);
        // Weights of magnitude 0.5..1.5 with random signs: never so small that float32 rounding dominates.
        Tensor w = Tensor.zeros(out.shape());
        for (int i = 0; i < w.size(); i++) w.data()[i] = (float) ((rng.uniform() < 0.5 ? -1 : 1) * (0.5 + rng.uniform()));
        Tape.backward(out, w);
        double scale = 0;
        for (Var v : vars) {
            if (v.grad() == null) continue;
            for (float g : v.grad().data()) scale = Math.max(scale, Math.abs(g));
        }
        double floor = 1e-2 * (scale + 1e-6);
        Result worst = new Result(0, -1, -1, 0, 0);
        try (NoGrad _ = NoGrad.enter()) {
            for (int i = 0; i < inputs.length; i++) {
                float[] x = inputs[i].data();
                int n = x.length, count = Math.min(n, maxPerInput);
                for (int c = 0; c < count; c++) {
                    int idx = count == n ? c : rng.nextInt(n);
                    float orig = x[idx];
                    x[idx] = (float) (orig + h);
                    double plus = weighted(f.apply(vars), w);
                    x[idx] = (float) (orig - h);
                    double minus = weighted(f.apply(vars), w);
                    x[idx] = orig;
                    double numeric = (plus - minus) / (2 * h);
                    double analytic = vars[i].grad() == null ? 0 : vars[i].grad().data()[idx];
                    double err = Math.abs(analytic - numeric) / Math.max(floor, Math.max(Math.abs(analytic), Math.abs(numeric)));
                    if (err > worst.maxRelativeError()) worst = new Result(err, i, idx, analytic, numeric);
                }
            }
        }
        return worst;
    }

    private static double weighted(Var out, Tensor w) {
        float[] o = out.value().data(), ws = w.data();
        double s = 0;
        for (int i = 0; i < o.length; i++) s += (double) o[i] * ws[i];
        return s;
    }
}

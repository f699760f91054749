package dev.ltm.optim;

/** The learning-rate schedules of spec section 2. */
public final class Schedules {
    private Schedules() {}

    /**
     * The slow schedule at step s (0-based) of {@code totalSteps}: linear warm-up from 0
     * (peak * s / warmup for s < warmup), then cosine decay from peak to peak/10, reached at the
     * last step (totalSteps - 1) and kept after it.
     */
    public static float warmupCosine(int step, int warmupSteps, int totalSteps, float peak) {
        if (step < 0 || warmupSteps < 0 || totalSteps <= 0) {
            throw new IllegalArgumentException("warmupCosine: step " + step + ", warmup " + warmupSteps + ", total " + totalSteps
                    + ": expected step >= 0, warmup >= 0, total > 0");
        }
        if (step < warmupSteps) return peak * step / warmupSteps;
        double min = peak / 10.0;
        int last = totalSteps - 1;
        double progress = last <= warmupSteps ? 1 : Math.min(1, (double) (step - warmupSteps) / (last - warmupSteps));
        return (float) (min + (peak - min) * (1 + Math.cos(Math.PI * progress)) / 2);
    }

    /**
     * The fast schedule at step s of T_fast: fastLr/10 + (fastLr - fastLr/10)(1 + cos(pi s / T_fast))/2,
     * so fastLr at s = 0 and never quite fastLr/10.
     */
    public static float fastCosine(int step, int tFast, float fastLr) {
        if (step < 0 || step >= tFast) throw new IllegalArgumentException("fastCosine: step " + step + " outside [0, T_fast " + tFast
                + ")");
        double min = fastLr / 10.0;
        return (float) (min + (fastLr - min) * (1 + Math.cos(Math.PI * step / tFast)) / 2);
    }
}

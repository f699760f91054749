package dev.ltm.spark;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.Params;
import dev.ltm.model.TokenBatch;
import dev.ltm.model.io.Json;
import dev.ltm.optim.DualRateTrainer;
import dev.ltm.tensor.Shape;
import dev.ltm.tensor.Tensor;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;

/**
 * Data-parallel dual-rate training (spec section 2 over spec 5's micro-batches): each slow step the driver
 * broadcasts the weights and the batch, the executors each take some micro-batches, fit their posteriors and
 * differentiate their share of the slow loss ({@link DualRateTrainer#microBatch}, the in-process code path),
 * {@code treeAggregate} sums the gradients, and the driver's trainer clips and takes the AdamW step as it does
 * in process. A micro-batch's fresh start is drawn from the step's generator, so a retried or moved task
 * computes the same numbers; only the order of the gradient sum differs from the in-process one.
 */
public final class SparkGradients implements DualRateTrainer.GradientSource {
    private final JavaSparkContext sc;
    private final int slices;
    private final TaskHook hook;

    /** Gradients on {@code sc}'s executors, the micro-batches spread over {@code slices} tasks per step (0: the default parallelism). */
    public SparkGradients(JavaSparkContext sc, int slices, TaskHook hook) {
        this.sc = sc;
        this.slices = slices > 0 ? slices : Math.max(1, sc.defaultParallelism());
        this.hook = hook;
    }

    @Override public DualRateTrainer.Share accumulate(DualRateTrainer trainer, TokenBatch batch, int step) {
        LatentThoughtModel model = trainer.model();
        int b = batch.batchSize(), micro = trainer.settings().microBatchFor(b);
        List<Integer> starts = new ArrayList<>();
        for (int from = 0; from < b; from += micro) starts.add(from);
        Broadcast<float[][]> weights = sc.broadcast(ModelCache.weights(model));
        Broadcast<int[][][]> rows = sc.broadcast(new int[][][] {batch.inputs(), batch.targets()});
        try {
            MicroBatchGradient seq = new MicroBatchGradient(Json.toJson(model.config()), Json.toJson(trainer.settings()), weights, rows,
                    step, micro, hook);
            Sum total = sc.parallelize(starts, Math.min(slices, starts.size())).treeAggregate(new Sum(), seq, Sum::add, 2);
            LinkedHashMap<String, Tensor> grads = new LinkedHashMap<>();
            int i = 0;
            for (var e : LatentThoughtModel.parameterShapes(model.config()).entrySet()) {
                Shape shape = e.getValue();
                grads.put(e.getKey(), Tensor.of(total.grads[i] != null ? total.grads[i] : new float[shape.size()], shape));
                i++;
            }
            trainer.loadGradients(grads);
            return new DualRateTrainer.Share(total.loss, total.nelbo, total.kl);
        } finally {
            weights.destroy();
            rows.destroy();
        }
    }

    /** A partial sum of micro-batch gradients (by weight, in parameter order; null: none yet) and of their shares. */
    static final class Sum implements Serializable {
        float[][] grads;
        double loss, nelbo, kl;

        /** Adds {@code other} into this sum and returns it. */
        Sum add(Sum other) {
            if (other.grads == null) return this;
            addGradients(other.grads);
            loss += other.loss;
            nelbo += other.nelbo;
            kl += other.kl;
            return this;
        }

        void addGradients(float[][] g) {
            if (grads == null) {
                grads = new float[g.length][];
                for (int i = 0; i < g.length; i++) grads[i] = g[i] == null ? null : g[i].clone();
                return;
            }
            for (int i = 0; i < g.length; i++) {
                if (g[i] == null) continue;
                if (grads[i] == null) grads[i] = g[i].clone();
                else for (int j = 0; j < g[i].length; j++) grads[i][j] += g[i][j];
            }
        }
    }

    /** On an executor: the gradient of the micro-batch starting at a row, added to the task's running sum. */
    static final class MicroBatchGradient implements Function2<Sum, Integer, Sum> {
        private final String configJson, settingsJson;
        private final Broadcast<float[][]> weights;
        private final Broadcast<int[][][]> rows;
        private final int step, micro;
        private final TaskHook hook;

        MicroBatchGradient(String configJson, String settingsJson, Broadcast<float[][]> weights, Broadcast<int[][][]> rows, int step,
                           int micro, TaskHook hook) {
            this.configJson = configJson;
            this.settingsJson = settingsJson;
            this.weights = weights;
            this.rows = rows;
            this.step = step;
            this.micro = micro;
            this.hook = hook;
        }

        @Override public Sum call(Sum sum, Integer from) {
            hook.beforeTask();
            LatentThoughtModel model = ModelCache.weights(configJson, weights);
            DualRateTrainer.Settings settings = Json.fromJson(settingsJson, DualRateTrainer.Settings.class);
            int[][][] r = rows.value();
            TokenBatch batch = new TokenBatch(r[0], r[1]);
            Params own = Params.trainable(model);
            DualRateTrainer.Share share = DualRateTrainer.microBatch(model, settings, own, batch, step, from, from + micro);
            float[][] g = own.grads().values().stream().map(t -> t == null ? null : t.toArray()).toArray(float[][]::new);
            sum.addGradients(g);
            sum.loss += share.loss();
            sum.nelbo += share.nelbo();
            sum.kl += share.kl();
            return sum;
        }
    }
}

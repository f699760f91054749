package dev.ltm.spark;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.io.Json;
import dev.ltm.optim.Checkpoint;
import dev.ltm.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.broadcast.Broadcast;

/**
 * The executor's side of a broadcast model: each JVM reads a broadcast model once, on its first task, and keeps
 * it keyed by the broadcast's id, so an executor's later tasks (and concurrent tasks in one JVM, which only read
 * the weights) share it. A model is immutable once built: the trainer broadcasts new weights as a new broadcast.
 */
final class ModelCache {
    private ModelCache() {}

    /** The files of a model-only checkpoint: what an executor needs to rebuild the model. */
    static final String[] MODEL_FILES = {"config.json", "model.safetensors"};

    private static final Map<Long, LatentThoughtModel> CHECKPOINTS = new HashMap<>();
    private static long weightsId = -1;
    private static LatentThoughtModel weightsModel;

    /** The model files of the checkpoint in {@code dir}, as bytes to broadcast. */
    static HashMap<String, byte[]> checkpointBytes(Path dir) {
        HashMap<String, byte[]> files = new HashMap<>();
        try {
            for (String f : MODEL_FILES) files.put(f, Files.readAllBytes(dir.resolve(f)));
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint " + dir + ": " + e.getMessage(), e);
        }
        return files;
    }

    /** The model of a broadcast checkpoint, read once per JVM (through a temporary folder and {@link Checkpoint#load}). */
    static synchronized LatentThoughtModel checkpoint(Broadcast<HashMap<String, byte[]>> bytes) {
        LatentThoughtModel m = CHECKPOINTS.get(bytes.id());
        if (m != null) return m;
        Path dir = null;
        try {
            dir = Files.createTempDirectory("ltm-spark-model");
            for (var e : bytes.value().entrySet()) Files.write(dir.resolve(e.getKey()), e.getValue());
            m = Checkpoint.load(dir).model();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (dir != null) deleteQuietly(dir);
        }
        CHECKPOINTS.put(bytes.id(), m);
        return m;
    }

    /** The weights of {@code model} in {@link LatentThoughtModel#parameterShapes} order, copied, to broadcast. */
    static float[][] weights(LatentThoughtModel model) {
        Map<String, Tensor> p = model.parameters();
        return LatentThoughtModel.parameterShapes(model.config()).keySet().stream().map(n -> p.get(n).toArray()).toArray(float[][]::new);
    }

    /**
     * The model of {@code configJson} with a step's broadcast weights; only the latest step's is kept (the driver
     * sends the next step's weights after every task of this one has finished).
     */
    static synchronized LatentThoughtModel weights(String configJson, Broadcast<float[][]> weights) {
        if (weightsId == weights.id()) return weightsModel;
        LtmConfig config = Json.fromJson(configJson, LtmConfig.class);
        float[][] w = weights.value();
        LinkedHashMap<String, Tensor> named = new LinkedHashMap<>();
        int i = 0;
        for (var e : LatentThoughtModel.parameterShapes(config).entrySet()) named.put(e.getKey(), Tensor.of(w[i++], e.getValue()));
        weightsModel = new LatentThoughtModel(config, named);
        weightsId = weights.id();
        return weightsModel;
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary folder left behind is harmless
        }
    }
}

package dev.ltm.web;

import dev.ltm.optim.Checkpoint;
import dev.ltm.optim.TrainingData;
import dev.ltm.optim.data.Dataset;
import java.util.ArrayList;
import java.util.List;

/** The documents a checkpoint's training held out, on which the page probes the layers and measures the bound. */
public final class HeldOut {
    private HeldOut() {}

    /**
     * The validation documents of the data the checkpoint was trained on (the same seeded split as
     * training), all of them when it held none out, and none when it names no corpus of its own.
     */
    public static List<String> documents(Checkpoint checkpoint) {
        Checkpoint.DataSpec spec = checkpoint.config().data();
        if (spec == null || spec.source().startsWith("memory:")) return List.of();
        List<String> docs = TrainingData.documents(spec);
        if (spec.valFraction() == 0 || docs.size() < 2) return docs;
        List<String> val = new ArrayList<>();
        for (int i : Dataset.split(docs.size(), spec.valFraction(), spec.seed()).validation()) val.add(docs.get(i));
        return val;
    }
}

package dev.ltm.web;

import dev.ltm.optim.Checkpoint;

/** A model the server serves: where it came from (shown on the model card) and the loaded checkpoint. */
public record ServedModel(String source, Checkpoint checkpoint) {
    /** Checks that both are given. */
    public ServedModel {
        if (source == null || checkpoint == null) {
            throw new IllegalArgumentException("serve: a served model needs a source and a checkpoint");
        }
    }
}

package dev.ltm.spark;

import java.io.Serializable;

/**
 * Runs on an executor before each unit of work (a batch to encode, a micro-batch to differentiate). The
 * commands pass {@link #NONE}; the fault tests pass one that fails a chosen task's first attempt, to show
 * that Spark's retry gives the same numbers.
 */
@FunctionalInterface
public interface TaskHook extends Serializable {
    /** Does nothing. */
    TaskHook NONE = () -> {};

    /** Called on the executor, inside the task, before the work. */
    void beforeTask();
}

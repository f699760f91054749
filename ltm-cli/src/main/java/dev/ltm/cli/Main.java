package dev.ltm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ltm} command. Every failure a user can cause (bad options, a missing corpus, a
 * broken checkpoint, an invalid config) ends with one line on standard error and exit code 2;
 * anything else is a bug and keeps its stack trace.
 */
@Command(name = "ltm", mixinStandardHelpOptions = true, version = "ltm 0.1.0",
        description = "Latent Thought Models in pure Java: train, evaluate, generate, probe.",
        subcommands = {DemoCommand.class, TrainCommand.class, PrepareCommand.class, EvalCommand.class, EncodeCommand.class,
                GenerateCommand.class, ProbeCommand.class, ExperimentCommand.class, ServeCommand.class, CommandLine.HelpCommand.class})
public final class Main {
    /** Exit code for bad input. */
    public static final int BAD_INPUT = 2;

    private Main() {}

    /** Runs the command line and returns its exit code. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setParameterExceptionHandler((ex, a) -> {
            System.err.println("ltm: " + ex.getMessage());
            return BAD_INPUT;
        });
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (isUserError(ex)) {
                System.err.println("ltm " + cmd.getCommandName() + ": " + oneLine(ex));
                return BAD_INPUT;
            }
            throw ex;
        });
        return cli.execute(args);
    }

    /** Errors caused by what the user gave us, as opposed to bugs. */
    static boolean isUserError(Throwable ex) {
        return ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                || ex instanceof java.io.UncheckedIOException || ex.getClass().getSimpleName().endsWith("Exception")
                && ex.getClass().getPackageName().startsWith("dev.ltm");
    }

    static String oneLine(Throwable ex) {
        String m = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
        if (ex instanceof java.nio.file.NoSuchFileException) m = "no such file: " + m;
        return m.replace('\n', ' ');
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }
}

package dev.ltm.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ltm bench} command: one subcommand per benchmark, each printing its ratios last. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks of the ltm engine.",
        subcommands = {GemmBench.class, CompareBench.class, ScalingBench.class, StepBench.class, JmhBench.class, CrashBench.class,
                FuzzBench.class, ProfileBench.class})
public final class BenchMain implements Runnable {

    /** Runs the bench command line; exits 2 with one line on a bad option. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line: bad options print one line on stderr and return exit code 2. */
    static CommandLine commandLine() {
        CommandLine cmd = new CommandLine(new BenchMain());
        cmd.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("bench: " + ex.getMessage());
            return CommandLine.ExitCode.USAGE;
        });
        return cmd;
    }

    @Override public void run() {
        new CommandLine(this).usage(System.out);
    }
}

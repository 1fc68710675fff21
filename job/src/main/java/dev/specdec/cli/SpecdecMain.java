package dev.specdec.cli;

import dev.specdec.engine.cli.EngineMain;
import dev.specdec.job.cli.BatchCommand;
import dev.specdec.job.cli.BenchJobCommand;
import dev.specdec.job.cli.ClusterLocalCommand;
import dev.specdec.job.cli.GatewayCommand;
import dev.specdec.job.cli.KafkaBrokerCommand;
import dev.specdec.job.cli.RunCommand;
import dev.specdec.job.cli.ServeLocalCommand;
import dev.specdec.job.cli.SubmitCommand;
import dev.specdec.job.cli.TailCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code specdec} command: engine commands and the Flink job's commands. */
@Command(name = "specdec", mixinStandardHelpOptions = true, version = "specdec 0.1.0",
        description = "Speculative LLM decoding with a CTC drafter, as an engine and as an Apache Flink job.",
        subcommands = {BatchCommand.class, RunCommand.class, ServeLocalCommand.class, SubmitCommand.class,
                TailCommand.class, BenchJobCommand.class, ClusterLocalCommand.class, KafkaBrokerCommand.class, GatewayCommand.class})
public final class SpecdecMain {

    public static void main(String[] args) {
        // Engine commands (generate, train-base, train-drafter, bench-engine, bench) come from the engine module.
        System.exit(EngineMain.execute(EngineMain.withEngineCommands(new CommandLine(new SpecdecMain())), args));
    }
}

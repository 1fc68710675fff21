package dev.specdec.cli;

import dev.specdec.engine.cli.BenchEngineCommand;
import dev.specdec.engine.cli.EngineMain;
import dev.specdec.engine.cli.GenerateCommand;
import dev.specdec.engine.cli.TrainBaseCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code specdec} command: engine commands and the Flink job's commands. */
@Command(name = "specdec", mixinStandardHelpOptions = true, version = "specdec 0.1.0",
        description = "Speculative LLM decoding with a CTC drafter, as an engine and as an Apache Flink job.",
        subcommands = {GenerateCommand.class, TrainBaseCommand.class, BenchEngineCommand.class})
public final class SpecdecMain {

    public static void main(String[] args) {
        System.exit(EngineMain.execute(new CommandLine(new SpecdecMain()), args));
    }
}

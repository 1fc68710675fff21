package dev.specdec.job.cli;

import dev.specdec.job.FlinkJobMain;
import dev.specdec.job.records.OutputFormat;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every command that starts the streaming job takes --output-format, Avro unless told, and it reaches the endpoint. */
class OutputFormatOptionTest {
    static List<Object> commands() {
        return List.of(new RunCommand(), new FlinkJobMain(), new ServeLocalCommand(), new ClusterLocalCommand());
    }

    private static Object parsed(Object command, String... args) {
        CommandLine cl = new CommandLine(command);
        List<String> all = new java.util.ArrayList<>(List.of(args));
        if (cl.getCommandSpec().findOption("--bootstrap-servers") != null) {
            all.addAll(List.of("--bootstrap-servers", "127.0.0.1:9092"));
        }
        cl.parseArgs(all.toArray(String[]::new));
        return cl.getCommandSpec().findOption("--output-format").getValue();
    }

    @Test
    void avroUnlessJsonIsAskedFor() {
        for (Object command : commands()) {
            assertEquals(OutputFormat.AVRO, parsed(command), command.getClass().getSimpleName());
        }
        for (Object command : commands()) {
            assertEquals(OutputFormat.JSON, parsed(command, "--output-format", "json"), command.getClass().getSimpleName());
        }
    }

    @Test
    void theFormatTravelsInTheEndpoint() throws Exception {
        RunCommand run = new RunCommand();
        new CommandLine(run).parseArgs("--bootstrap-servers", "127.0.0.1:9092", "--output-format", "JSON");
        assertEquals(OutputFormat.JSON, run.kafka.endpoint().outputFormat());
        assertEquals(OutputFormat.JSON, run.kafka.endpoint().withChunkTopic("c").withClientProperties(java.util.Map.of())
                .outputFormat());
    }

    @Test
    void anUnknownFormatIsRefusedNamingTheChoices() {
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
                () -> parsed(new ServeLocalCommand(), "--output-format", "xml"));
        assertTrue(e.getMessage().contains("use avro or json"), e.getMessage());
    }
}

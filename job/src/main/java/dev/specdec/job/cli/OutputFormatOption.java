package dev.specdec.job.cli;

import dev.specdec.job.records.OutputFormat;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.util.Locale;

/** {@code --output-format avro|json}: one definition for every command that starts the streaming job. */
public final class OutputFormatOption {
    @Option(names = "--output-format", defaultValue = "avro", converter = Converter.class, paramLabel = "avro|json",
            description = {"Encoding of results and chunks on Kafka: avro (single-object encoding) or json (one UTF-8",
                    "JSON object per record, as the batch JSONL lines); the content-type header says which; dead",
                    "letters stay Avro (default ${DEFAULT-VALUE})."})
    OutputFormat format;

    public OutputFormat format() {
        return format;
    }

    /** Lower case as the help shows it; upper case is accepted too. */
    static final class Converter implements ITypeConverter<OutputFormat> {
        @Override
        public OutputFormat convert(String value) {
            try {
                return OutputFormat.valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not an output format; use avro or json");
            }
        }
    }
}

package dev.specdec.job.cli;

import dev.specdec.records.GenerationRequest;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Counts the records of a request file or folder, for the progress line's total. */
final class InputCount {
    private InputCount() {
    }

    static long count(Path input) throws IOException {
        if (Files.isDirectory(input)) {
            long n = 0;
            try (Stream<Path> files = Files.list(input)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    if (!f.getFileName().toString().startsWith(".")) {
                        n += count(f);
                    }
                }
            }
            return n;
        }
        if (input.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".avro")) {
            try (DataFileReader<GenerationRequest> r = new DataFileReader<>(input.toFile(),
                    new SpecificDatumReader<>(GenerationRequest.class))) {
                long n = 0;
                while (r.hasNext()) {
                    r.next();
                    n++;
                }
                return n;
            } catch (IOException | RuntimeException e) {
                return 1; // unreadable: the job reports it as one dead letter
            }
        }
        List<String> lines = Files.readAllLines(input, StandardCharsets.UTF_8);
        return lines.stream().filter(l -> !l.isBlank()).count();
    }
}

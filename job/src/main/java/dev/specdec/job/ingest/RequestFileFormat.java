package dev.specdec.job.ingest;

import dev.specdec.job.records.RecordFormatException;
import dev.specdec.engine.request.SamplingParams;
import dev.specdec.job.records.RequestJson;
import dev.specdec.records.DeadLetter;
import dev.specdec.records.GenerationRequest;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.impl.StreamFormatAdapter;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.reader.SimpleStreamFormat;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.types.Either;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Reads request files for the bounded job: JSON lines ({@code .jsonl}, {@code .json}: plain prompt
 * lines, MT-bench and GSM8K question files, or full {@code GenerationRequest} objects) and Avro
 * container files ({@code .avro}, any published schema version: the file names its writer schema).
 * A line that cannot be read becomes a dead letter with its file and line number, and reading goes on.
 *
 * <p>Files are not split, and after a restore Flink skips the records already read by reading them
 * again, so line numbers and the ids given to lines without one stay the same.
 */
public final class RequestFileFormat implements BulkFormat<Either<DeadLetter, GenerationRequest>, FileSourceSplit> {
    private static final long serialVersionUID = 1L;

    private final SamplingParams defaults;

    public RequestFileFormat(SamplingParams defaults) {
        this.defaults = defaults;
    }

    @Override
    public Reader<Either<DeadLetter, GenerationRequest>> createReader(Configuration config, FileSourceSplit split)
            throws IOException {
        return new StreamFormatAdapter<>(formatFor(split.path().toString())).createReader(config, split);
    }

    @Override
    public Reader<Either<DeadLetter, GenerationRequest>> restoreReader(Configuration config, FileSourceSplit split)
            throws IOException {
        return new StreamFormatAdapter<>(formatFor(split.path().toString())).restoreReader(config, split);
    }

    @Override
    public boolean isSplittable() {
        return false;
    }

    @Override
    public TypeInformation<Either<DeadLetter, GenerationRequest>> getProducedType() {
        return Ingested.type();
    }

    private StreamFormat<Either<DeadLetter, GenerationRequest>> formatFor(String file) {
        return file.toLowerCase(Locale.ROOT).endsWith(".avro") ? new AvroFile(file) : new JsonLines(file, defaults);
    }

    /** One JSON object per line; blank lines are skipped. */
    static final class JsonLines extends SimpleStreamFormat<Either<DeadLetter, GenerationRequest>> {
        private static final long serialVersionUID = 1L;
        private final String file;
        private final SamplingParams defaults;

        JsonLines(String file, SamplingParams defaults) {
            this.file = file;
            this.defaults = defaults;
        }

        @Override
        public StreamFormat.Reader<Either<DeadLetter, GenerationRequest>> createReader(Configuration config,
                                                                                    FSDataInputStream stream) {
            BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8));
            String stem = stem(file);
            return new StreamFormat.Reader<>() {
                private long lineNo;

                @Override
                public Either<DeadLetter, GenerationRequest> read() throws IOException {
                    String line;
                    do {
                        line = in.readLine();
                        if (line == null) {
                            return null;
                        }
                        lineNo++;
                    } while (line.isBlank());
                    try {
                        return Ingested.request(RequestJson.parseLine(line, stem + ":" + lineNo, defaults));
                    } catch (RecordFormatException e) {
                        return Ingested.deadLetter(DeadLetters.fromFile(file, lineNo, line, e.getMessage(), e.requestId()));
                    }
                }

                @Override
                public void close() throws IOException {
                    in.close();
                }
            };
        }

        @Override
        public TypeInformation<Either<DeadLetter, GenerationRequest>> getProducedType() {
            return Ingested.type();
        }
    }

    /** An Avro container file of GenerationRequest records. */
    static final class AvroFile extends SimpleStreamFormat<Either<DeadLetter, GenerationRequest>> {
        private static final long serialVersionUID = 1L;
        private final String file;

        AvroFile(String file) {
            this.file = file;
        }

        @Override
        public StreamFormat.Reader<Either<DeadLetter, GenerationRequest>> createReader(Configuration config,
                                                                                    FSDataInputStream stream) {
            return new StreamFormat.Reader<>() {
                private DataFileStream<GenerationRequest> records;
                private long index;
                private boolean done;

                @Override
                public Either<DeadLetter, GenerationRequest> read() throws IOException {
                    if (done) {
                        return null;
                    }
                    try {
                        if (records == null) {
                            records = new DataFileStream<>(stream, new SpecificDatumReader<>(GenerationRequest.class));
                        }
                        if (!records.hasNext()) {
                            done = true;
                            return null;
                        }
                        index++;
                        return Ingested.request(records.next());
                    } catch (IOException | RuntimeException e) {
                        // A container file cannot be resynchronised from a stream: report once and stop.
                        done = true;
                        String what = records == null ? "not an Avro container file of GenerationRequest records"
                                : "corrupt Avro data after record " + index;
                        return Ingested.deadLetter(DeadLetters.fromFile(file, index + 1, new byte[0],
                                what + ": " + e.getMessage(), null));
                    }
                }

                @Override
                public void close() throws IOException {
                    if (records != null) {
                        records.close();
                    } else {
                        stream.close();
                    }
                }
            };
        }

        @Override
        public TypeInformation<Either<DeadLetter, GenerationRequest>> getProducedType() {
            return Ingested.type();
        }
    }

    static String stem(String path) {
        String name = path.substring(path.lastIndexOf('/') + 1);
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}

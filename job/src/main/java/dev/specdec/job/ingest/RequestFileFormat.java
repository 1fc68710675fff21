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
    private final RequestLimits limits;

    public RequestFileFormat(SamplingParams defaults, RequestLimits limits) {
        this.defaults = defaults;
        this.limits = limits;
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
        return file.toLowerCase(Locale.ROOT).endsWith(".avro") ? new AvroFile(file) : new JsonLines(file, defaults, limits.recordBytes());
    }

    /**
     * One JSON object per line; blank lines are skipped. A line longer than the record limit is not
     * held in memory: its head becomes a dead letter and reading goes on after its end.
     */
    static final class JsonLines extends SimpleStreamFormat<Either<DeadLetter, GenerationRequest>> {
        private static final long serialVersionUID = 1L;
        private final String file;
        private final SamplingParams defaults;
        private final int maxLineChars;

        JsonLines(String file, SamplingParams defaults, int maxLineChars) {
            this.file = file;
            this.defaults = defaults;
            this.maxLineChars = maxLineChars;
        }

        @Override
        public StreamFormat.Reader<Either<DeadLetter, GenerationRequest>> createReader(Configuration config,
                                                                                    FSDataInputStream stream) {
            BoundedLines in = new BoundedLines(new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8)),
                    maxLineChars);
            String stem = stem(file);
            return new StreamFormat.Reader<>() {
                private long lineNo;

                @Override
                public Either<DeadLetter, GenerationRequest> read() throws IOException {
                    String line;
                    do {
                        line = in.next();
                        if (line == null) {
                            return null;
                        }
                        lineNo++;
                    } while (!in.overlong() && line.isBlank());
                    if (in.overlong()) {
                        return Ingested.deadLetter(DeadLetters.fromFile(file, lineNo, line, "line of " + in.length()
                                + " characters is over the limit of " + maxLineChars
                                + " (--request-limit record-bytes=N raises it)", null));
                    }
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

    /** Lines of a reader, each held up to {@code max} characters; the rest of a longer line is skipped. */
    static final class BoundedLines implements java.io.Closeable {
        private final java.io.Reader in;
        private final int max;
        private long length;

        BoundedLines(java.io.Reader in, int max) {
            this.in = in;
            this.max = max;
        }

        /** The next line without its end (its first {@code max} characters if longer), or null at the end. */
        String next() throws IOException {
            StringBuilder line = new StringBuilder();
            length = 0;
            int c = in.read();
            if (c < 0) {
                return null;
            }
            while (c >= 0 && c != '\n') {
                if (length++ < max) {
                    line.append((char) c);
                }
                c = in.read();
            }
            if (line.length() > 0 && line.charAt(line.length() - 1) == '\r' && length <= max) {
                line.setLength(line.length() - 1);
                length--;
            }
            return line.toString();
        }

        /** Whether the line last returned was longer than the limit. */
        boolean overlong() {
            return length > max;
        }

        /** The full length of the line last returned. */
        long length() {
            return length;
        }

        @Override
        public void close() throws IOException {
            in.close();
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

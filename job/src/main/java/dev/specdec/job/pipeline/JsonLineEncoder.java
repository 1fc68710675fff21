package dev.specdec.job.pipeline;

import dev.specdec.job.records.RecordJson;
import org.apache.avro.generic.IndexedRecord;
import org.apache.flink.api.common.serialization.Encoder;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** One JSON object per line, with the record's Avro field names (see {@link RecordJson}). */
final class JsonLineEncoder<T extends IndexedRecord> implements Encoder<T> {
    private static final long serialVersionUID = 1L;

    @Override
    public void encode(T element, OutputStream stream) throws IOException {
        stream.write(RecordJson.toJsonLine(element).getBytes(StandardCharsets.UTF_8));
        stream.write('\n');
    }
}

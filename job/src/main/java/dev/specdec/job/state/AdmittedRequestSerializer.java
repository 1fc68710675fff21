package dev.specdec.job.state;

import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/** Format 1 of {@link AdmittedRequest}: the request (format 1 of its own serializer), sequence, time. */
public final class AdmittedRequestSerializer extends VersionedSerializer<AdmittedRequest> {
    private static final long serialVersionUID = 1L;
    private static final TokenizedRequestSerializer REQUEST = new TokenizedRequestSerializer();

    @Override
    public int currentVersion() {
        return 1;
    }

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public AdmittedRequest copy(AdmittedRequest from) {
        return from;
    }

    @Override
    protected void write(AdmittedRequest r, DataOutputView out) throws IOException {
        REQUEST.write(r.request(), out);
        out.writeLong(r.admissionSeq());
        out.writeLong(r.admittedMicros());
    }

    @Override
    protected AdmittedRequest read(int version, DataInputView in) throws IOException {
        return new AdmittedRequest(REQUEST.read(1, in), in.readLong(), in.readLong());
    }
}

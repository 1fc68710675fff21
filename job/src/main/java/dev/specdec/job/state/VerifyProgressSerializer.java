package dev.specdec.job.state;

import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/** Format 1 of {@link VerifyProgress}: tokens, then the counters. */
public final class VerifyProgressSerializer extends VersionedSerializer<VerifyProgress> {
    private static final long serialVersionUID = 1L;

    @Override
    public int currentVersion() {
        return 1;
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public VerifyProgress copy(VerifyProgress from) {
        return from.copy();
    }

    @Override
    protected void write(VerifyProgress v, DataOutputView out) throws IOException {
        Wire.writeInts(out, v.rawTokens(), v.count());
        out.writeInt(v.steps);
        out.writeInt(v.stepTokens);
        out.writeLong(v.verifyNanos);
        out.writeLong(v.prefillNanos);
        out.writeLong(v.startedMicros);
        out.writeLong(v.firstTokenMicros);
        out.writeInt(v.recoveries);
    }

    @Override
    protected VerifyProgress read(int version, DataInputView in) throws IOException {
        VerifyProgress v = new VerifyProgress(Wire.readInts(in));
        v.steps = in.readInt();
        v.stepTokens = in.readInt();
        v.verifyNanos = in.readLong();
        v.prefillNanos = in.readLong();
        v.startedMicros = in.readLong();
        v.firstTokenMicros = in.readLong();
        v.recoveries = in.readInt();
        return v;
    }
}

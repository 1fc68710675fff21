package dev.specdec.job.state;

import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/** Format 1 of {@link DraftProgress}. */
public final class DraftProgressSerializer extends VersionedSerializer<DraftProgress> {
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
    public DraftProgress copy(DraftProgress from) {
        return from.copy();
    }

    @Override
    protected void write(DraftProgress d, DataOutputView out) throws IOException {
        Wire.writeString(out, d.drafter);
        out.writeInt(d.acceptedTokens);
        out.writeLong(d.draftNanos);
        out.writeInt(d.rebuilds);
    }

    @Override
    protected DraftProgress read(int version, DataInputView in) throws IOException {
        DraftProgress d = new DraftProgress(Wire.readString(in));
        d.acceptedTokens = in.readInt();
        d.draftNanos = in.readLong();
        d.rebuilds = in.readInt();
        return d;
    }
}

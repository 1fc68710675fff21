package dev.specdec.job.state;

import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/** Format 1 of {@link KvCacheHandle}: rows, then the tensor bytes (length -1 for compact form). */
public final class KvCacheHandleSerializer extends VersionedSerializer<KvCacheHandle> {
    private static final long serialVersionUID = 1L;

    @Override
    public int currentVersion() {
        return 1;
    }

    @Override
    public boolean isImmutableType() {
        // The record and its snapshot bytes are never modified after creation.
        return true;
    }

    @Override
    public KvCacheHandle copy(KvCacheHandle from) {
        return from;
    }

    @Override
    protected void write(KvCacheHandle h, DataOutputView out) throws IOException {
        out.writeInt(h.rows());
        Wire.writeBytes(out, h.tensors());
    }

    @Override
    protected KvCacheHandle read(int version, DataInputView in) throws IOException {
        return new KvCacheHandle(in.readInt(), Wire.readBytes(in));
    }
}

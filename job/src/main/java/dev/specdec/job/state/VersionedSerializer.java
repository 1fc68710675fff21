package dev.specdec.job.state;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/**
 * A state serializer whose binary format has a version. It always writes the current format and
 * reads the format named by the checkpoint it restores from: the version is recorded once, in the
 * serializer snapshot of the checkpoint, not in every value. A newer job restoring an older
 * checkpoint reads the old format and Flink migrates the state to the current one
 * ({@link VersionedSnapshot#resolveSchemaCompatibility}).
 *
 * <p>Subclasses need a public no-argument constructor (a checkpoint names the class).
 */
public abstract class VersionedSerializer<T> extends TypeSerializer<T> {
    private static final long serialVersionUID = 1L;

    private int readVersion = -1;

    /** The format this class writes. Bump it when {@link #write} changes, and teach {@link #read} the old one. */
    public abstract int currentVersion();

    protected abstract void write(T value, DataOutputView out) throws IOException;

    protected abstract T read(int version, DataInputView in) throws IOException;

    /** The format this instance reads: the current one, or an older one while restoring. */
    public final int readVersion() {
        return readVersion < 0 ? currentVersion() : readVersion;
    }

    /** This serializer reading format {@code version} (for restoring an older checkpoint). */
    final VersionedSerializer<T> readingVersion(int version) {
        if (version < 1 || version > currentVersion()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " cannot read format version " + version
                    + " (current " + currentVersion() + ")");
        }
        this.readVersion = version;
        return this;
    }

    @Override
    public final void serialize(T value, DataOutputView out) throws IOException {
        write(value, out);
    }

    @Override
    public final T deserialize(DataInputView in) throws IOException {
        return read(readVersion(), in);
    }

    @Override
    public final T deserialize(T reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public final void copy(DataInputView in, DataOutputView out) throws IOException {
        write(deserialize(in), out);
    }

    @Override
    public T copy(T from, T reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public T createInstance() {
        return null;
    }

    @Override
    public TypeSerializer<T> duplicate() {
        // Stateless apart from the immutable read version.
        return this;
    }

    @Override
    public TypeSerializerSnapshot<T> snapshotConfiguration() {
        return new VersionedSnapshot<>(getClass(), currentVersion());
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && ((VersionedSerializer<?>) o).readVersion() == readVersion();
    }

    @Override
    public int hashCode() {
        return getClass().hashCode() * 31 + readVersion();
    }
}

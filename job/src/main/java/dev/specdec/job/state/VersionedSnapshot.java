package dev.specdec.job.state;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.util.InstantiationUtil;

import java.io.IOException;

/**
 * What a checkpoint records about a {@link VersionedSerializer}: its class and the data format
 * version it wrote. Restoring gives a serializer that reads that version; compatibility with the
 * running job's serializer is "as is" for the same version and "after migration" for an older one.
 */
public final class VersionedSnapshot<T> implements TypeSerializerSnapshot<T> {
    private static final int SNAPSHOT_VERSION = 1;

    private Class<? extends VersionedSerializer> serializerClass;
    private int formatVersion;

    /** For Flink, which instantiates snapshots reflectively before {@link #readSnapshot}. */
    public VersionedSnapshot() {
    }

    @SuppressWarnings("rawtypes")
    VersionedSnapshot(Class<? extends VersionedSerializer> serializerClass, int formatVersion) {
        this.serializerClass = serializerClass;
        this.formatVersion = formatVersion;
    }

    public int formatVersion() {
        return formatVersion;
    }

    @Override
    public int getCurrentVersion() {
        return SNAPSHOT_VERSION;
    }

    @Override
    public void writeSnapshot(DataOutputView out) throws IOException {
        out.writeUTF(serializerClass.getName());
        out.writeInt(formatVersion);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void readSnapshot(int readVersion, DataInputView in, ClassLoader classLoader) throws IOException {
        if (readVersion != SNAPSHOT_VERSION) {
            throw new IOException("unknown serializer snapshot version " + readVersion);
        }
        String name = in.readUTF();
        try {
            serializerClass = (Class<? extends VersionedSerializer>) Class.forName(name, true, classLoader);
        } catch (ClassNotFoundException e) {
            throw new IOException("state serializer class " + name + " is gone", e);
        }
        formatVersion = in.readInt();
    }

    @Override
    @SuppressWarnings("unchecked")
    public TypeSerializer<T> restoreSerializer() {
        VersionedSerializer<T> s = InstantiationUtil.instantiate(serializerClass);
        return s.readingVersion(formatVersion);
    }

    @Override
    public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(TypeSerializerSnapshot<T> oldSnapshot) {
        if (!(oldSnapshot instanceof VersionedSnapshot<?> old) || old.serializerClass != serializerClass) {
            return TypeSerializerSchemaCompatibility.incompatible();
        }
        if (old.formatVersion == formatVersion) {
            return TypeSerializerSchemaCompatibility.compatibleAsIs();
        }
        return old.formatVersion < formatVersion ? TypeSerializerSchemaCompatibility.compatibleAfterMigration()
                : TypeSerializerSchemaCompatibility.incompatible();
    }
}

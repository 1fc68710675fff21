package dev.specdec.job.state;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/** Format 1 of {@link TokenizedRequest}: every field in declaration order. */
public final class TokenizedRequestSerializer extends VersionedSerializer<TokenizedRequest> {
    private static final long serialVersionUID = 1L;
    public static final TokenizedRequestSerializer INSTANCE = new TokenizedRequestSerializer();

    public static TypeInformation<TokenizedRequest> typeInfo() {
        return new SerializerTypeInfo<>(TokenizedRequest.class, TokenizedRequestSerializer::new);
    }

    @Override
    public int currentVersion() {
        return 1;
    }

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public TokenizedRequest copy(TokenizedRequest from) {
        return from;
    }

    @Override
    protected void write(TokenizedRequest r, DataOutputView out) throws IOException {
        Wire.writeString(out, r.id());
        Wire.writeInts(out, r.promptIds(), r.promptIds().length);
        out.writeInt(r.maxNewTokens());
        out.writeDouble(r.temperature());
        out.writeInt(r.topK());
        out.writeDouble(r.topP());
        out.writeLong(r.seed());
        Wire.writeInts(out, r.stopTokenIds(), r.stopTokenIds().length);
        Wire.writeStrings(out, r.stopStrings());
        out.writeBoolean(r.ignoreEos());
        Wire.writeString(out, r.drafter());
        Wire.writeMap(out, r.metadata());
        out.writeLong(r.submitTimeMs());
        out.writeLong(r.receivedMicros());
        out.writeLong(r.deadlineMicros());
        out.writeBoolean(r.cancel());
    }

    @Override
    protected TokenizedRequest read(int version, DataInputView in) throws IOException {
        return new TokenizedRequest(Wire.readString(in), Wire.readInts(in), in.readInt(), in.readDouble(),
                in.readInt(), in.readDouble(), in.readLong(), Wire.readInts(in), Wire.readStrings(in),
                in.readBoolean(), Wire.readString(in), Wire.readMap(in), in.readLong(), in.readLong(),
                in.readLong(), in.readBoolean());
    }
}

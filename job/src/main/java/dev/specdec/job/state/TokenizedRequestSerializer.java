package dev.specdec.job.state;

import dev.specdec.engine.request.SamplingParams;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** Format 1 of {@link TokenizedRequest}: id, prompt, sampling fields, method, metadata, arrival times, cancel flag. */
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
        SamplingParams p = r.params();
        Wire.writeString(out, r.id());
        Wire.writeInts(out, r.promptIds(), r.promptIds().length);
        out.writeInt(p.maxNewTokens());
        out.writeDouble(p.temperature());
        out.writeInt(p.topK());
        out.writeDouble(p.topP());
        out.writeLong(p.seed());
        int[] stopIds = p.stopTokenIds().stream().mapToInt(Integer::intValue).sorted().toArray();
        Wire.writeInts(out, stopIds, stopIds.length);
        Wire.writeStrings(out, p.stopStrings());
        out.writeBoolean(p.ignoreEos());
        Wire.writeString(out, r.method());
        Wire.writeMap(out, r.metadata());
        out.writeLong(r.arrival().submitTimeMs());
        out.writeLong(r.arrival().receivedMicros());
        out.writeLong(r.arrival().deadlineMicros());
        out.writeBoolean(r.cancel());
    }

    @Override
    protected TokenizedRequest read(int version, DataInputView in) throws IOException {
        String id = Wire.readString(in);
        int[] prompt = Wire.readInts(in);
        int maxNew = in.readInt();
        double temperature = in.readDouble();
        int topK = in.readInt();
        double topP = in.readDouble();
        long seed = in.readLong();
        Set<Integer> stopIds = new HashSet<>();
        for (int t : Wire.readInts(in)) {
            stopIds.add(t);
        }
        SamplingParams p = new SamplingParams(maxNew, temperature, topK, topP, seed, stopIds, Wire.readStrings(in),
                in.readBoolean());
        String method = Wire.readString(in);
        Map<String, String> metadata = Wire.readMap(in);
        TokenizedRequest.Arrival arrival = new TokenizedRequest.Arrival(in.readLong(), in.readLong(), in.readLong());
        return new TokenizedRequest(id, prompt, p, method, metadata, arrival, in.readBoolean());
    }
}

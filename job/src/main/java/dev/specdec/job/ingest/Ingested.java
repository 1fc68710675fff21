package dev.specdec.job.ingest;

import dev.specdec.records.DeadLetter;
import dev.specdec.records.GenerationRequest;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.types.Either;

/**
 * What a source emits for each input record: the request it holds (right) or, when it holds none
 * that can be read, a dead letter saying where it came from and why (left). Sources never throw on
 * bad input: a throwing deserializer would make Flink restart forever on the same record.
 */
public final class Ingested {
    private Ingested() {
    }

    public static TypeInformation<Either<DeadLetter, GenerationRequest>> type() {
        return new EitherTypeInfo<>(new AvroTypeInfo<>(DeadLetter.class), new AvroTypeInfo<>(GenerationRequest.class));
    }

    public static Either<DeadLetter, GenerationRequest> request(GenerationRequest r) {
        return Either.Right(r);
    }

    public static Either<DeadLetter, GenerationRequest> deadLetter(DeadLetter d) {
        return Either.Left(d);
    }
}

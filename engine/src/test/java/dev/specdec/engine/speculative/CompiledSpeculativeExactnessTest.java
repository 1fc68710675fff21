package dev.specdec.engine.speculative;

import org.junit.jupiter.api.BeforeAll;

/** {@link SpeculativeExactnessTest} on the compiled forward: the same model, compiled once it is made. */
class CompiledSpeculativeExactnessTest extends SpeculativeExactnessTest {
    @BeforeAll
    static void compile() throws Exception {
        model.compile();
    }
}

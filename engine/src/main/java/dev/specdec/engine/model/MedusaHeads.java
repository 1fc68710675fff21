package dev.specdec.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.specdec.engine.io.CheckpointReader;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Medusa-1 heads: head k maps the base model's last hidden state h to logits for the token k+1
 * positions ahead, {@code lm_head_k(h + silu(W_k h + b_k))}. Tensor names follow Medusa
 * ({@code medusa_head.k.0.linear.weight/bias}); a head with its own {@code medusa_head.k.1.weight}
 * uses it, otherwise the base model's (frozen) LM head is shared.
 */
public final class MedusaHeads implements AutoCloseable {
    private final LlamaModel base;
    private final NDManager manager;
    private final int heads;
    private final NDArray weights;   // [K * H, H]: all residual blocks in one projection
    private final NDArray biases;    // [K * H]
    private final NDArray[] ownHeads; // per head [V, H] or null (shared base LM head)

    private MedusaHeads(LlamaModel base, NDManager manager, int heads, NDArray weights, NDArray biases, NDArray[] ownHeads) {
        this.base = base;
        this.manager = manager;
        this.heads = heads;
        this.weights = weights;
        this.biases = biases;
        this.ownHeads = ownHeads;
    }

    public static MedusaHeads load(Path file, LlamaModel base) throws IOException {
        NDManager manager = base.manager().newSubManager();
        try (CheckpointReader r = CheckpointReader.openFile(file)) {
            long h = base.config.hiddenSize;
            int k = 0;
            while (r.has("medusa_head." + k + ".0.linear.weight")) {
                k++;
            }
            if (k == 0) {
                throw new ModelFormatException(file + " has no medusa_head.0.0.linear.weight");
            }
            NDArray[] w = new NDArray[k];
            NDArray[] b = new NDArray[k];
            NDArray[] own = new NDArray[k];
            for (int i = 0; i < k; i++) {
                String p = "medusa_head." + i + ".";
                w[i] = r.read(manager, p + "0.linear.weight", h, h);
                b[i] = r.read(manager, p + "0.linear.bias", h);
                own[i] = r.has(p + "1.weight") ? r.read(manager, p + "1.weight", base.config.vocabSize, h) : null;
            }
            NDArray weights = ai.djl.ndarray.NDArrays.concat(new ai.djl.ndarray.NDList(w), 0);
            NDArray biases = ai.djl.ndarray.NDArrays.concat(new ai.djl.ndarray.NDList(b), 0);
            for (int i = 0; i < k; i++) {
                w[i].close();
                b[i].close();
            }
            return new MedusaHeads(base, manager, k, weights, biases, own);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    public int heads() {
        return heads;
    }

    /** Logits [B, K, V] of hidden states [B, H]; the caller closes the result. */
    public NDArray logits(NDArray hidden) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            long b = hidden.getShape().get(0);
            long h = hidden.getShape().get(1);
            NDArray pre = Ops.reshape(Ops.linear(hidden, weights, biases), b, heads, h);     // [B, K, H]
            NDArray act = Ops.mul(pre, Ops.sigmoid(pre));
            Ops.addInPlace(act, Ops.reshape(hidden, b, 1, h));
            NDArray out;
            boolean shared = true;
            for (NDArray o : ownHeads) {
                shared &= o == null;
            }
            if (shared) {
                out = Ops.linear(act, base.lmHead(), null);                                     // [B, K, V]
            } else {
                NDArray[] parts = new NDArray[heads];
                for (int k = 0; k < heads; k++) {
                    NDArray row = Ops.slice(act, 1, k, k + 1);
                    parts[k] = Ops.linear(row, ownHeads[k] != null ? ownHeads[k] : base.lmHead(), null);
                }
                out = Ops.cat(1, parts);
            }
            NDScope.unregister(out);
            return out;
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}

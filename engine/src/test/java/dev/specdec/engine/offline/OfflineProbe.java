package dev.specdec.engine.offline;

import ai.djl.engine.Engine;
import dev.specdec.engine.model.ForwardOutput;
import dev.specdec.engine.model.KvCache;
import dev.specdec.engine.model.KvCachePool;
import dev.specdec.engine.model.LlamaModel;
import dev.specdec.engine.model.SequenceInput;
import dev.specdec.engine.tokenizer.TextTokenizer;

import java.net.URL;
import java.nio.file.Path;
import java.security.Permission;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Runs in a child JVM under a security manager that refuses and records every connection to a
 * non-loopback host, then starts the DJL engine, loads a model and a tokenizer and runs a forward
 * pass. Prints {@code attempts=N} for the engine's work and {@code selfcheck=intercepted} when
 * its own deliberate connection was caught (proving the probe works).
 */
public final class OfflineProbe {
    static final List<String> ATTEMPTS = new CopyOnWriteArrayList<>();

    public static void main(String[] args) throws Exception {
        System.setSecurityManager(new SecurityManager() {
            @Override
            public void checkPermission(Permission perm) {
            }

            @Override
            public void checkPermission(Permission perm, Object context) {
            }

            @Override
            public void checkConnect(String host, int port) {
                if (!isLoopback(host)) {
                    ATTEMPTS.add(host + ":" + port);
                    throw new SecurityException("network access to " + host + " refused by OfflineProbe");
                }
            }

            @Override
            public void checkConnect(String host, int port, Object context) {
                checkConnect(host, port);
            }
        });
        Path model = Path.of(args[0]);
        Engine.getInstance();
        try (LlamaModel m = LlamaModel.load(model, null);
             TextTokenizer tok = TextTokenizer.load(model);
             KvCachePool pool = m.newCachePool(1, 16);
             KvCache c = pool.allocate();
             ForwardOutput out = m.forward(List.of(SequenceInput.causal(c, tok.encode("hello world"))),
                     ForwardOutput.LogitsMode.LAST)) {
            out.logits.toFloatArray();
        }
        System.out.println("attempts=" + ATTEMPTS.size() + " " + ATTEMPTS);
        int before = ATTEMPTS.size();
        try {
            new URL("http://example.com/").openConnection().connect();
        } catch (Exception expected) {
            // refused by the security manager (or unreachable): the attempt is what matters
        }
        System.out.println(ATTEMPTS.size() > before ? "selfcheck=intercepted" : "selfcheck=missed");
    }

    /** Loopback by name only: resolving a name here would itself be a network lookup. */
    static boolean isLoopback(String host) {
        return host == null || host.equals("localhost") || host.startsWith("127.")
                || host.equals("::1") || host.equals("0:0:0:0:0:0:0:1") || host.equals("[::1]");
    }
}

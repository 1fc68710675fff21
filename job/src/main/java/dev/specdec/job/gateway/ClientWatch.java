package dev.specdec.job.gateway;

import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;

/**
 * Notices a client that closes its connection while it waits for a whole (non-streamed) answer.
 * Jetty stops reading a connection while a request is handled, so a closed socket goes unseen until
 * the answer is written; this asks to be told when the connection becomes readable and reads: end of
 * stream means the client is gone. The read would take the first byte of a next call on the same
 * connection, so such answers close their connection ({@code Connection: close}); HTTP clients do not
 * pipeline a second call behind an unanswered one.
 */
final class ClientWatch {
    private ClientWatch() {
    }

    static void watch(Request request, Runnable onGone) {
        EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        endPoint.tryFillInterested(Callback.from(() -> readable(endPoint, onGone), failure -> onGone.run()));
    }

    private static void readable(EndPoint endPoint, Runnable onGone) {
        try {
            ByteBuffer probe = BufferUtil.allocate(1);
            if (endPoint.fill(probe) < 0) {
                onGone.run();
            }
        } catch (Exception e) {
            onGone.run();
        }
    }
}

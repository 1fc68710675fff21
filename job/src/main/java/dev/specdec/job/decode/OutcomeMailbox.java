package dev.specdec.job.decode;

import dev.specdec.engine.serve.EngineThread;
import dev.specdec.engine.serve.StepOutcome;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.util.function.ThrowingConsumer;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Carries the engine thread's outcomes to the task thread: the engine publishes into a queue, and
 * one mail at a time applies everything published since the last one (the engine may be several
 * steps ahead), in step order. An engine failure becomes a mail that fails the task.
 */
final class OutcomeMailbox implements EngineThread.Outcomes {
    private final MailboxExecutor mailbox;
    private final ThrowingConsumer<StepOutcome, Exception> apply;
    private final ConcurrentLinkedQueue<StepOutcome> published = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    OutcomeMailbox(MailboxExecutor mailbox, ThrowingConsumer<StepOutcome, Exception> apply) {
        this.mailbox = mailbox;
        this.apply = apply;
    }

    /** On the engine thread. */
    @Override
    public void publish(StepOutcome outcome) {
        published.add(outcome);
        if (scheduled.compareAndSet(false, true)) {
            offer(this::applyPublished);
        }
    }

    /** On the engine thread. */
    @Override
    public void failed(Throwable error) {
        offer(() -> {
            throw new IllegalStateException("the decode engine failed", error);
        });
    }

    /** On the task thread: applies every outcome published so far. */
    void applyPublished() throws Exception {
        scheduled.set(false);
        for (StepOutcome o = published.poll(); o != null; o = published.poll()) {
            apply.accept(o);
        }
    }

    private void offer(org.apache.flink.util.function.ThrowingRunnable<? extends Exception> mail) {
        try {
            mailbox.execute(mail, "apply decode steps");
        } catch (RejectedExecutionException closed) {
            // The task is shutting down: nothing left to apply to.
        }
    }
}

package dev.specdec.engine.train;

/** Linear warm-up to the peak rate, then cosine decay to {@code minRatio * peak} at {@code totalSteps}. */
public record LrSchedule(double peak, int warmupSteps, int totalSteps, double minRatio) {

    public double at(long step) {
        if (warmupSteps > 0 && step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        double progress = totalSteps <= warmupSteps ? 1.0
                : Math.min(1.0, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
        double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
        return peak * (minRatio + (1 - minRatio) * cosine);
    }
}

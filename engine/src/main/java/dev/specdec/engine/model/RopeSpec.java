package dev.specdec.engine.model;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Rotary position embedding settings and their inverse frequencies, computed in float32 exactly as
 * HuggingFace transformers does, for the rope types LLaMA-family checkpoints use: {@code default},
 * {@code linear}, {@code llama3} (LLaMA 3.1), {@code yarn} and {@code dynamic} (identical to default
 * inside the original context, which is the longest sequence this engine accepts).
 */
public final class RopeSpec {
    public final String type;
    public final double theta;
    public final double factor;
    private final float[] invFreq;      // [rotaryDim / 2]
    private final float attentionScaling;

    private RopeSpec(String type, double theta, double factor, float[] invFreq, float attentionScaling) {
        this.type = type;
        this.theta = theta;
        this.factor = factor;
        this.invFreq = invFreq;
        this.attentionScaling = attentionScaling;
    }

    static RopeSpec fromConfig(JsonNode c, int headDim, int maxPositions) {
        JsonNode params = c.get("rope_parameters");
        JsonNode scaling = c.get("rope_scaling");
        double theta = 10000.0;
        if (c.hasNonNull("rope_theta")) {
            theta = c.get("rope_theta").asDouble();
        } else if (params != null && params.hasNonNull("rope_theta")) {
            theta = params.get("rope_theta").asDouble();
        }
        // The newer rope_parameters block carries the scaling keys too; the classic key wins when both exist.
        JsonNode s = scaling != null && !scaling.isNull() ? scaling : params;
        String type = "default";
        if (s != null && !s.isNull()) {
            type = s.hasNonNull("rope_type") ? s.get("rope_type").asText()
                    : s.hasNonNull("type") ? s.get("type").asText() : "default";
        }
        if (c.hasNonNull("partial_rotary_factor") && c.get("partial_rotary_factor").asDouble() != 1.0) {
            throw new ModelFormatException("config.json: partial_rotary_factor other than 1.0 is not supported");
        }
        float[] base = defaultInvFreq(theta, headDim);
        switch (type) {
            case "default", "dynamic" -> {
                return new RopeSpec(type, theta, 1.0, base, 1.0f);
            }
            case "linear" -> {
                double factor = requiredDouble(s, "factor");
                float[] f = new float[base.length];
                for (int i = 0; i < f.length; i++) {
                    f[i] = base[i] / (float) factor;
                }
                return new RopeSpec(type, theta, factor, f, 1.0f);
            }
            case "llama3" -> {
                return llama3(s, theta, base);
            }
            case "yarn" -> {
                return yarn(s, c, theta, headDim, maxPositions);
            }
            default -> throw new ModelFormatException("config.json: rope type '" + type
                    + "' is not supported (supported: default, linear, llama3, yarn, dynamic)");
        }
    }

    private static float[] defaultInvFreq(double theta, int dim) {
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / (float) dim;
            float pow = (float) Math.pow(theta, exponent);
            inv[i] = 1.0f / pow;
        }
        return inv;
    }

    private static RopeSpec llama3(JsonNode s, double theta, float[] base) {
        double factor = requiredDouble(s, "factor");
        double low = requiredDouble(s, "low_freq_factor");
        double high = requiredDouble(s, "high_freq_factor");
        double oldContext = requiredDouble(s, "original_max_position_embeddings");
        double lowWavelen = oldContext / low;
        double highWavelen = oldContext / high;
        float[] f = new float[base.length];
        for (int i = 0; i < f.length; i++) {
            float inv = base[i];
            float wavelen = (float) (2 * Math.PI) / inv;
            float scaled = wavelen > lowWavelen ? inv / (float) factor : inv;
            float smooth = (float) ((oldContext / wavelen - low) / (high - low));
            float smoothed = (1 - smooth) * scaled / (float) factor + smooth * scaled;
            boolean medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
            f[i] = medium ? smoothed : scaled;
        }
        return new RopeSpec("llama3", theta, factor, f, 1.0f);
    }

    private static RopeSpec yarn(JsonNode s, JsonNode c, double theta, int dim, int maxPositions) {
        double factor = requiredDouble(s, "factor");
        double originalMax = s.hasNonNull("original_max_position_embeddings")
                ? s.get("original_max_position_embeddings").asDouble() : maxPositions;
        Double attentionFactor = s.hasNonNull("attention_factor") ? s.get("attention_factor").asDouble() : null;
        if (attentionFactor == null) {
            double mscale = s.path("mscale").asDouble(0);
            double mscaleAllDim = s.path("mscale_all_dim").asDouble(0);
            attentionFactor = mscale != 0 && mscaleAllDim != 0
                    ? yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim)
                    : yarnMscale(factor, 1);
        }
        double betaFast = s.hasNonNull("beta_fast") ? s.get("beta_fast").asDouble() : 32;
        double betaSlow = s.hasNonNull("beta_slow") ? s.get("beta_slow").asDouble() : 1;
        boolean truncate = !s.hasNonNull("truncate") || s.get("truncate").asBoolean();
        double lowDim = correctionDim(betaFast, dim, theta, originalMax);
        double highDim = correctionDim(betaSlow, dim, theta, originalMax);
        if (truncate) {
            lowDim = Math.floor(lowDim);
            highDim = Math.ceil(highDim);
        }
        lowDim = Math.max(lowDim, 0);
        highDim = Math.min(highDim, dim - 1);
        if (lowDim == highDim) {
            highDim += 0.001;
        }
        float[] f = new float[dim / 2];
        for (int i = 0; i < f.length; i++) {
            float posFreq = (float) Math.pow(theta, (float) (2 * i) / (float) dim);
            float extrapolation = 1.0f / posFreq;
            float interpolation = 1.0f / ((float) factor * posFreq);
            float ramp = (float) ((i - lowDim) / (highDim - lowDim));
            ramp = Math.max(0f, Math.min(1f, ramp));
            float extrapolationFactor = 1 - ramp;
            f[i] = interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor;
        }
        return new RopeSpec("yarn", theta, factor, f, attentionFactor.floatValue());
    }

    private static double yarnMscale(double scale, double mscale) {
        return scale <= 1 ? 1.0 : 0.1 * mscale * Math.log(scale) + 1.0;
    }

    private static double correctionDim(double rotations, int dim, double base, double maxPositions) {
        return (dim * Math.log(maxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
    }

    private static double requiredDouble(JsonNode s, String key) {
        if (s == null || !s.hasNonNull(key)) {
            throw new ModelFormatException("config.json: rope scaling needs '" + key + "'");
        }
        return s.get(key).asDouble();
    }

    /**
     * Writes cos and sin of the rotation at {@code position} for all {@code headDim} lanes (the two
     * halves repeat the same frequencies, as in HF's {@code cat(freqs, freqs)}).
     */
    public void cosSin(int position, float[] cos, float[] sin, int offset) {
        int half = invFreq.length;
        float p = position;
        for (int i = 0; i < half; i++) {
            float angle = invFreq[i] * p;
            float cv = (float) Math.cos(angle) * attentionScaling;
            float sv = (float) Math.sin(angle) * attentionScaling;
            cos[offset + i] = cv;
            cos[offset + half + i] = cv;
            sin[offset + i] = sv;
            sin[offset + half + i] = sv;
        }
    }

    /** The inverse frequencies, one per pair of rotary lanes (a copy). */
    public float[] invFreq() {
        return invFreq.clone();
    }

    /** The factor cos and sin are scaled by (1 except for yarn). */
    public float attentionScaling() {
        return attentionScaling;
    }

    public int rotaryDim() {
        return invFreq.length * 2;
    }

    @Override
    public String toString() {
        return type + "(theta=" + theta + (factor != 1.0 ? ", factor=" + factor : "") + ")";
    }
}

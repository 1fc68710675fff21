package dev.specdec.engine.compiled;

import java.util.Locale;

/**
 * TorchScript source of the engine's forward passes, written from a model's shape: the base model
 * (embedding, every decoder layer with its KV-cache writes, the final norm, the selected logits) and
 * the CTC drafter's whole draft chain (the draft layer over the accepted pairs, then one draft step
 * per depth with its top-k). The code mirrors the eager forward op for op where it can (q|k|v and
 * gate|up as single projections, norm gains folded into them, the rotary rotation as a matmul over
 * q|k|v with identity on v), so the two paths agree to float rounding.
 *
 * <p>Weights come in as a {@code List[Tensor]} in the order of {@link Shape#layerWeights}; the KV
 * storage ({@code [layers, slots, 2 kvHeads, capacity, headDim]}) is written in place.
 */
public final class ForwardSource {

    /**
     * The dimensions the source is written for.
     *
     * @param inputNorm whether each layer normalises its input (the draft layer does not)
     */
    public record Shape(int hidden, int heads, int kvHeads, int headDim, int intermediate, int layers,
                        double eps, boolean qkvBias, boolean outputBias, boolean mlpBias, boolean inputNorm) {
        /** Weights per layer: q|k|v, o, gate|up, down, each followed by its bias when the model has one. */
        public int layerWeights() {
            return 4 + (qkvBias ? 1 : 0) + (outputBias ? 1 : 0) + (mlpBias ? 2 : 0);
        }
    }

    /** Bins of the draft chain's acceptance table ({@code acceptance}: calibrated acceptance by top-1 probability). */
    public static final int BINS = 20;
    /** Index of the rotate-half matrix [headDim, headDim] in both weight lists. */
    public static final int ROTATE_HALF = 0;
    /** Base model: embedding [V, H], LM head [V, H], final norm gain [H], then the layers. */
    public static final int BASE_EMBED = 1;
    public static final int BASE_LM_HEAD = 2;
    public static final int BASE_NORM = 3;
    public static final int BASE_LAYERS = 4;
    /** Draft chain: embedding, the base LM head, fc [H, 2H], fc bias [H] (zeros when absent), then the layer. */
    public static final int DRAFT_EMBED = 1;
    public static final int DRAFT_LM_HEAD = 2;
    public static final int DRAFT_FC = 3;
    public static final int DRAFT_FC_BIAS = 4;
    public static final int DRAFT_LAYER = 5;

    private ForwardSource() {
    }

    /**
     * The base model: {@code forward(w, kv, ids [B,T], cos, sin [B,T,1,D], mask [B,1,G*T,Lk] (if masked),
     * wslot, wrow [B*T], first, gather [B] (if gathered), key_len, rows [R], mode)} returns the post-norm
     * hidden states [B,T,H] and the logits: none (mode 0), every row (1, [B,T,V]) or the given flat rows
     * (2, [R,V]).
     */
    public static String base(Shape s) {
        String methods = "  def forward(self: __torch__.Llama, w: List[Tensor], kv: Tensor, ids: Tensor, cos: Tensor,\n"
                + "      sin: Tensor, mask: Tensor, masked: bool, wslot: Tensor, wrow: Tensor, first: int, gather: Tensor,\n"
                + "      gathered: bool, key_len: int, rows: Tensor, mode: int) -> Tuple[Tensor, Tensor]:\n"
                + "    B = ids.size(0)\n"
                + "    T = ids.size(1)\n"
                + "    cosf, sinf = self.rotary(cos, sin, B, T)\n"
                + "    x = torch.embedding(w[" + BASE_EMBED + "], ids)\n"
                + "    for l in range(" + s.layers() + "):\n"
                + "      x = self.layer(x, w, " + BASE_LAYERS + " + l * " + s.layerWeights() + ", kv[l], cosf, sinf, mask,"
                + " masked, wslot, wrow, first, gather, gathered, key_len, B, T)\n"
                + "    hidden = torch.mul(self.rms(x), w[" + BASE_NORM + "])\n"
                + "    if mode == 1:\n"
                + "      logits = torch.linear(hidden, w[" + BASE_LM_HEAD + "])\n"
                + "    elif mode == 2:\n"
                + "      logits = torch.linear(torch.index_select(torch.reshape(hidden, [B * T, " + s.hidden() + "]), 0, rows),"
                + " w[" + BASE_LM_HEAD + "])\n"
                + "    else:\n"
                + "      logits = torch.zeros([0], dtype=6, device=hidden.device)\n"
                + "    return (hidden, logits)\n";
        return methods + rotary(s) + rms(s) + layer(s);
    }

    /**
     * The CTC drafter's chain: the draft layer over each sequence's new pairs ({@code hidden [B,T,H]},
     * the next tokens {@code ids [B,T]}), then {@code depth} chain steps along the top-1 token, each
     * written to the draft cache at row {@code lens + d} (scratch rows the caller drops afterwards).
     * When {@code adaptive}, stops as soon as one more depth would not raise the expected tokens per
     * millisecond of the step (the rule of {@code DraftBudget#worthDeeper}; a drafted token's
     * acceptance is {@code acceptance[bin of its top-1 probability] * factor[sequence]}). Returns the
     * top-{@code width} ids and log-probabilities per depth, [B, depth', width].
     */
    public static String draftChain(Shape s) {
        int h = s.hidden();
        int g = s.heads() / s.kvHeads();
        String methods = "  def forward(self: __torch__.DraftChain, w: List[Tensor], kv: Tensor, hidden: Tensor, ids: Tensor,\n"
                + "      cos: Tensor, sin: Tensor, mask: Tensor, masked: bool, wslot: Tensor, wrow: Tensor, first: int,\n"
                + "      gather: Tensor, gathered: bool, key_len: int, last_rows: Tensor, slots: Tensor, lens: Tensor,\n"
                + "      last_pos: Tensor, inv_freq: Tensor, scaling: float, depth: int, width: int, adaptive: bool,\n"
                + "      acceptance: Tensor, factor: Tensor, step_ms: List[float], sampled: bool, seeds: Tensor,\n"
                + "      inv_temp: Tensor)"
                + " -> Tuple[Tensor, Tensor]:\n"
                + "    B = ids.size(0)\n"
                + "    T = ids.size(1)\n"
                + "    cosf, sinf = self.rotary(cos, sin, B, T)\n"
                + "    x = self.fc(w, torch.embedding(w[" + DRAFT_EMBED + "], ids), hidden)\n"
                + "    x = self.layer(x, w, " + DRAFT_LAYER + ", kv[0], cosf, sinf, mask, masked, wslot, wrow, first, gather,"
                + " gathered, key_len, B, T)\n"
                + "    f = torch.index_select(torch.reshape(x, [B * T, " + h + "]), 0, last_rows)\n"
                + "    top_ids: List[Tensor] = []\n"
                + "    top_lps: List[Tensor] = []\n"

                + "    expected = float(B)\n"
                + "    reach = torch.ones([B], dtype=6, device=f.device)\n"
                + "    longest = int(torch.max(lens))\n"
                // Rotary tables and key offsets of every chain step at once: each step only narrows them.
                + "    chain = max(depth - 1, 1)\n"
                + "    offsets = torch.add(torch.arange(chain, device=f.device), 1)\n"
                + "    angles = torch.mul(torch.unsqueeze(torch.add(torch.unsqueeze(last_pos, 1), offsets).to(6), 2),"
                + " inv_freq)\n"
                + "    emb = torch.cat([angles, angles], -1)\n"
                + "    chain_cos, chain_sin = self.rotary(torch.unsqueeze(torch.mul(torch.cos(emb), scaling), 2),"
                + " torch.unsqueeze(torch.mul(torch.sin(emb), scaling), 2), B, chain)\n"
                + "    key_offsets = torch.sub(torch.unsqueeze(torch.arange(longest + chain, device=f.device), 0),"
                + " torch.unsqueeze(lens, 1))\n"
                + "    for step in range(depth):\n"
                + "      logits = torch.linear(f, w[" + DRAFT_LM_HEAD + "])\n"
                + "      if sampled:\n"
                + "        # the token of depth step + 1 sits at base position last_pos + 2 + step (pair t predicts x_{t+2})\n"
                + "        values, indices = self.coupled(logits, seeds, inv_temp, torch.add(last_pos, 2 + step), width)\n"
                + "      else:\n"
                + "        values, indices = torch.topk(torch.log_softmax(logits, -1), width, -1)\n"
                + "      top_ids.append(indices)\n"
                + "      top_lps.append(values)\n"

                + "      if step == depth - 1:\n"
                + "        break\n"
                + "      if adaptive:\n"
                + "        top1 = torch.exp(torch.select(values, 1, 0))\n"
                + "        bins = torch.clamp(torch.mul(top1, " + BINS + ").to(4), 0, " + (BINS - 1) + ")\n"
                + "        accept = torch.clamp(torch.mul(torch.index_select(acceptance, 0, bins), factor), 0.0, 0.99)\n"
                + "        reach = torch.mul(reach, accept)\n"
                + "        reached = float(torch.sum(reach))\n"
                + "        expected = expected + reached\n"
                + "        gain = float(torch.sum(torch.mul(reach, accept)))\n"
                // DraftBudget.worthDeeper: go on if any deeper step, at this depth's acceptance, beats this one.
                + "        k = step + 1\n"
                + "        a = gain / reached if reached > 0.0 else 0.0\n"
                + "        here = expected / step_ms[k]\n"
                + "        e = expected\n"
                + "        r = reached\n"
                + "        deeper = False\n"
                + "        for j in range(k + 1, len(step_ms)):\n"
                + "          r = r * a\n"
                + "          e = e + r\n"
                + "          if e / step_ms[j] > here:\n"
                + "            deeper = True\n"
                + "            break\n"
                + "        if not deeper:\n"
                + "          break\n"
                + "      token = torch.narrow(indices, 1, 0, 1)\n"
                + "      ccosf = torch.narrow(chain_cos, 1, step, 1)\n"
                + "      csinf = torch.narrow(chain_sin, 1, step, 1)\n"
                + "      row = torch.add(lens, step)\n"
                + "      klen = longest + step + 1\n"
                + "      cmask = torch.where(torch.le(torch.narrow(key_offsets, 1, 0, klen), step), 0.0, float(\"-inf\"))\n"
                + "      cmask = torch.reshape(cmask, [B, 1, 1, klen]).expand([B, 1, " + g + ", klen])\n"
                + "      x = self.fc(w, torch.embedding(w[" + DRAFT_EMBED + "], token), torch.unsqueeze(f, 1))\n"
                + "      x = self.layer(x, w, " + DRAFT_LAYER + ", kv[0], ccosf, csinf, cmask, True, slots, row, first, gather,"
                + " gathered, klen, B, 1)\n"
                + "      f = torch.select(x, 1, 0)\n"
                + "    return (torch.stack(top_ids, 1), torch.stack(top_lps, 1))\n"
                + coupled()
                + "  def fc(self: __torch__.DraftChain, w: List[Tensor], e: Tensor, h: Tensor) -> Tensor:\n"
                + "    return torch.linear(torch.cat([e, h], 2), w[" + DRAFT_FC + "], w[" + DRAFT_FC_BIAS + "])\n";
        return methods + (rotary(s) + rms(s) + layer(s)).replace("__torch__.Llama", "__torch__.DraftChain");
    }

    /**
     * Draft candidates coupled with the base model's sampling: a sampled sequence's candidates are
     * the top tokens of {@code logits / T + g}, where {@code g} is the very Gumbel noise the
     * verification draws the token at that position with ({@code TokenSampler}: SplitMix64 of (seed,
     * position, token id)). When draft and base agree, the draft's top candidate is the base's sample,
     * so sampled drafts are accepted about as often as the drafter is right, not only when the draw
     * happens to hit the drafter's most likely token. Greedy sequences ({@code inv_temp} 0) keep their
     * plain top tokens. Returns the candidates' tempered log-probabilities and ids.
     */
    private static String coupled() {
        return "  def coupled(self: __torch__.DraftChain, logits: Tensor, seeds: Tensor, inv_temp: Tensor, pos: Tensor,"
                + " width: int) -> Tuple[Tensor, Tensor]:\n"
                + "    t = torch.unsqueeze(inv_temp, 1)\n"
                + "    warm = torch.gt(t, 0.0)\n"
                + "    scaled = torch.where(warm, torch.mul(logits, t), logits)\n"
                + "    lp = torch.log_softmax(scaled, -1)\n"
                + "    noise = self.gumbel(seeds, pos, logits.size(1)).to(6)\n"
                + "    keys = torch.where(warm, torch.add(scaled, noise), scaled)\n"
                + "    top, indices = torch.topk(keys, width, -1)\n"
                + "    return (torch.gather(lp, 1, indices), indices)\n"
                + "  def gumbel(self: __torch__.DraftChain, seeds: Tensor, pos: Tensor, vocab: int) -> Tensor:\n"
                + "    z = self.mix(torch.add(seeds, torch.mul(torch.add(pos, 1), " + GOLDEN + ")))\n"
                + "    ids = torch.add(torch.arange(vocab, device=seeds.device), 1)\n"
                + "    z = self.mix(torch.bitwise_xor(torch.unsqueeze(z, 1), torch.unsqueeze(torch.mul(ids, " + TOKEN_MIX + "), 0)))\n"
                + "    z = self.mix(torch.bitwise_xor(z, " + FINAL_MIX + "))\n"
                + "    u = torch.mul(torch.add(torch.bitwise_and(torch.bitwise_right_shift(z, 11), " + ((1L << 53) - 1)
                + ").to(7), 0.5), " + Math.scalb(1.0, -53) + ")\n"
                + "    return torch.neg(torch.log(torch.neg(torch.log(u))))\n"
                + "  def mix(self: __torch__.DraftChain, z0: Tensor) -> Tensor:\n"
                + "    z = torch.mul(torch.bitwise_xor(z0, torch.bitwise_and(torch.bitwise_right_shift(z0, 30), "
                + ((1L << 34) - 1) + ")), " + MIX1 + ")\n"
                + "    z = torch.mul(torch.bitwise_xor(z, torch.bitwise_and(torch.bitwise_right_shift(z, 27), "
                + ((1L << 37) - 1) + ")), " + MIX2 + ")\n"
                + "    return torch.bitwise_xor(z, torch.bitwise_and(torch.bitwise_right_shift(z, 31), " + ((1L << 33) - 1) + "))\n";
    }

    /** SplitMix64's constants as signed 64-bit integers ({@code TokenSampler} uses the same). */
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final long TOKEN_MIX = 0xD1B54A32D192ED03L;
    private static final long FINAL_MIX = 0x8CB92BA72F3D8DD7L;
    private static final long MIX1 = 0xBF58476D1CE4E5B9L;
    private static final long MIX2 = 0x94D049BB133111EBL;

    /**
     * RMS normalisation without gain, as the eager forward does it: {@code layer_norm} of
     * {@code [x, -x]} has mean zero and variance mean(x^2), so its first half is x / sqrt(mean(x^2) + eps)
     * (one fused kernel; {@code aten::rms_norm} is composite on the CPU and costs eight operations).
     */
    private static String rms(Shape s) {
        return "  def rms(self: __torch__.Llama, x: Tensor) -> Tensor:\n"
                + "    mirrored = torch.cat([x, torch.neg(x)], -1)\n"
                + "    return torch.narrow(torch.layer_norm(mirrored, [" + 2 * s.hidden() + "], None, None, " + eps(s)
                + "), -1, 0, " + s.hidden() + ")\n";
    }

    /** Rotary tables widened to q|k|v: cos and sin on the q and k heads, 1 and 0 on the v heads. */
    private static String rotary(Shape s) {
        int qk = s.heads() + s.kvHeads();
        return "  def rotary(self: __torch__.Llama, cos: Tensor, sin: Tensor, B: int, T: int) -> Tuple[Tensor, Tensor]:\n"
                + "    ones = torch.ones_like(cos).expand([B, T, " + s.kvHeads() + ", " + s.headDim() + "])\n"
                + "    zeros = torch.zeros_like(sin).expand([B, T, " + s.kvHeads() + ", " + s.headDim() + "])\n"
                + "    cosf = torch.cat([cos.expand([B, T, " + qk + ", " + s.headDim() + "]), ones], 2)\n"
                + "    sinf = torch.cat([sin.expand([B, T, " + qk + ", " + s.headDim() + "]), zeros], 2)\n"
                + "    return (cosf, sinf)\n";
    }

    /**
     * One decoder layer on {@code x [B,T,H]} whose weights start at {@code o} in {@code w}: attention over
     * the layer's KV storage {@code kvl [slots, 2 kvHeads, capacity, D]} (new rows written at
     * (wslot, wrow) first), then the SwiGLU MLP, each with its residual.
     */
    private static String layer(Shape s) {
        int h = s.hidden();
        int d = s.headDim();
        int kvh = s.kvHeads();
        int g = s.heads() / s.kvHeads();
        int qkv = s.heads() + 2 * kvh;
        int i = s.intermediate();
        StringBuilder b = new StringBuilder();
        b.append("  def layer(self: __torch__.Llama, x: Tensor, w: List[Tensor], o: int, kvl: Tensor, cos: Tensor,"
                + " sin: Tensor,\n      mask: Tensor, masked: bool, wslot: Tensor, wrow: Tensor, first: int, gather: Tensor,"
                + " gathered: bool,\n      key_len: int, B: int, T: int) -> Tensor:\n");
        b.append(s.inputNorm() ? "    n = self.rms(x)\n" : "    n = x\n");
        int k = 0;
        String wQkv = "w[o + " + k++ + "]";
        String bQkv = s.qkvBias() ? "w[o + " + k++ + "]" : "None";
        String wO = "w[o + " + k++ + "]";
        String bO = s.outputBias() ? "w[o + " + k++ + "]" : "None";
        String wGu = "w[o + " + k++ + "]";
        String bGu = s.mlpBias() ? "w[o + " + k++ + "]" : "None";
        String wD = "w[o + " + k++ + "]";
        String bD = s.mlpBias() ? "w[o + " + k + "]" : "None";
        b.append("    qkv = torch.reshape(torch.linear(n, " + wQkv + ", " + bQkv + "), [B, T, " + qkv + ", " + d + "])\n");
        b.append("    rot = torch.add(torch.mul(qkv, cos), torch.mul(torch.matmul(qkv, w[" + ROTATE_HALF + "]), sin))\n");
        b.append("    q = torch.narrow(rot, 2, 0, " + s.heads() + ")\n");
        b.append("    new_kv = torch.reshape(torch.narrow(rot, 2, " + s.heads() + ", " + 2 * kvh + "), [B * T, "
                + 2 * kvh + ", " + d + "])\n");
        b.append("    kvl.index_put_([wslot, None, wrow], new_kv)\n");
        b.append("    if gathered:\n");
        b.append("      rows = torch.index_select(torch.narrow(kvl, 2, 0, key_len), 0, gather)\n");
        b.append("    else:\n");
        b.append("      rows = torch.narrow(torch.narrow(kvl, 0, first, B), 2, 0, key_len)\n");
        b.append("    keys = torch.narrow(rows, 1, 0, " + kvh + ")\n");
        b.append("    values = torch.narrow(rows, 1, " + kvh + ", " + kvh + ")\n");
        b.append("    if T == 1:\n");
        b.append("      q = torch.reshape(q, [B, " + kvh + ", " + g + ", " + d + "])\n");
        b.append("    else:\n");
        b.append("      q = torch.reshape(torch.permute(torch.reshape(q, [B, T, " + kvh + ", " + g + ", " + d
                + "]), [0, 2, 3, 1, 4]), [B, " + kvh + ", " + g + " * T, " + d + "])\n");
        // One token per sequence: the plain matmuls are cheapest. Several (verification, prefill): the
        // fused attention kernel wins (about 7% of a forward of 11 tokens here).
        b.append("    if T == 1:\n");
        b.append("      scores = torch.matmul(q, torch.transpose(keys, 2, 3))\n");
        b.append("      if masked:\n");
        b.append("        scores = torch.add(scores, mask)\n");
        b.append("      attn = torch.matmul(torch.softmax(scores, 3), values)\n");
        b.append("    elif masked:\n");
        b.append("      attn = torch.scaled_dot_product_attention(q, keys, values, mask, 0.0, False, scale=1.0)\n");
        b.append("    else:\n");
        b.append("      attn = torch.scaled_dot_product_attention(q, keys, values, None, 0.0, False, scale=1.0)\n");
        b.append("    if T == 1:\n");
        b.append("      merged = torch.reshape(attn, [B, 1, " + s.heads() * d + "])\n");
        b.append("    else:\n");
        b.append("      merged = torch.reshape(torch.permute(torch.reshape(attn, [B, " + kvh + ", " + g + ", T, " + d
                + "]), [0, 3, 1, 2, 4]), [B, T, " + s.heads() * d + "])\n");
        b.append("    x = torch.add(x, torch.linear(merged, " + wO + ", " + bO + "))\n");
        b.append("    gu = torch.linear(self.rms(x), " + wGu + ", " + bGu + ")\n");
        b.append("    act = torch.mul(torch.silu(torch.narrow(gu, 2, 0, " + i + ")), torch.narrow(gu, 2, " + i + ", " + i + "))\n");
        b.append("    return torch.add(x, torch.linear(act, " + wD + ", " + bD + "))\n");
        return b.toString();
    }

    private static String eps(Shape s) {
        return String.format(Locale.ROOT, "%.10e", s.eps());
    }
}

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
     * Stops early once every sequence's chain log-probability is below {@code stop}. Returns the
     * top-{@code width} ids and log-probabilities per depth, [B, depth', width].
     */
    public static String draftChain(Shape s) {
        int h = s.hidden();
        int d = s.headDim();
        int kvh = s.kvHeads();
        int g = s.heads() / s.kvHeads();
        String methods = "  def forward(self: __torch__.DraftChain, w: List[Tensor], kv: Tensor, hidden: Tensor, ids: Tensor,\n"
                + "      cos: Tensor, sin: Tensor, mask: Tensor, masked: bool, wslot: Tensor, wrow: Tensor, first: int,\n"
                + "      gather: Tensor, gathered: bool, key_len: int, last_rows: Tensor, slots: Tensor, lens: Tensor,\n"
                + "      last_pos: Tensor, inv_freq: Tensor, scaling: float, depth: int, width: int, stop: float)"
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
                + "    chain = torch.zeros([B], dtype=6, device=f.device)\n"
                + "    longest = int(torch.max(lens))\n"
                + "    for step in range(depth):\n"
                + "      lp = torch.log_softmax(torch.linear(f, w[" + DRAFT_LM_HEAD + "]), -1)\n"
                + "      values, indices = torch.topk(lp, width, -1)\n"
                + "      top_ids.append(indices)\n"
                + "      top_lps.append(values)\n"
                + "      chain = chain + torch.select(values, 1, 0)\n"
                + "      if step == depth - 1:\n"
                + "        break\n"
                + "      if bool(torch.all(torch.lt(chain, stop))):\n"
                + "        break\n"
                + "      token = torch.narrow(indices, 1, 0, 1)\n"
                + "      angles = torch.mul(torch.unsqueeze(torch.add(last_pos, 1 + step).to(6), 1), torch.unsqueeze(inv_freq, 0))\n"
                + "      emb = torch.cat([angles, angles], -1)\n"
                + "      ccos = torch.reshape(torch.mul(torch.cos(emb), scaling), [B, 1, 1, " + d + "])\n"
                + "      csin = torch.reshape(torch.mul(torch.sin(emb), scaling), [B, 1, 1, " + d + "])\n"
                + "      ccosf, csinf = self.rotary(ccos, csin, B, 1)\n"
                + "      row = torch.add(lens, step)\n"
                + "      klen = longest + step + 1\n"
                + "      keys = torch.arange(klen, device=f.device)\n"
                + "      visible = torch.le(torch.unsqueeze(keys, 0), torch.unsqueeze(row, 1))\n"
                + "      cmask = torch.where(visible, 0.0, float(\"-inf\"))\n"
                + "      cmask = torch.reshape(cmask, [B, 1, 1, klen]).expand([B, 1, " + g + ", klen])\n"
                + "      x = self.fc(w, torch.embedding(w[" + DRAFT_EMBED + "], token), torch.unsqueeze(f, 1))\n"
                + "      x = self.layer(x, w, " + DRAFT_LAYER + ", kv[0], ccosf, csinf, cmask, True, slots, row, first, gather,"
                + " gathered, klen, B, 1)\n"
                + "      f = torch.select(x, 1, 0)\n"
                + "    return (torch.stack(top_ids, 1), torch.stack(top_lps, 1))\n"
                + "  def fc(self: __torch__.DraftChain, w: List[Tensor], e: Tensor, h: Tensor) -> Tensor:\n"
                + "    return torch.linear(torch.cat([e, h], 2), w[" + DRAFT_FC + "], w[" + DRAFT_FC_BIAS + "])\n";
        return methods + (rotary(s) + rms(s) + layer(s)).replace("__torch__.Llama", "__torch__.DraftChain");
    }

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

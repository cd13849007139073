package dev.securetag.gguf.runtime.internal;

import java.util.Arrays;

/**
 * The llama forward pass (llama.cpp's graph for {@code LLM_ARCH_LLAMA}): RMSNorm, RoPE on adjacent pairs of the
 * already-permuted q/k rows, causal grouped-query attention over a KV cache, SiLU-gated MLP or Mixtral's
 * mixture of experts, and the output projection.
 *
 * <p>Every input of a product with quantized weights is first rounded to llama.cpp's 8-bit activation grid
 * ({@link Q8Activation}), so the products are llama.cpp's up to float summation order. One token (decoding) runs
 * integer matrix-vector kernels (the per-format {@code *Kernels} classes through {@link QMatrix}); a prompt batch runs a matrix-matrix product
 * instead: each group of four weight rows is decoded to floats once and multiplied with every token of the batch in a
 * 4 x 4 register-blocked float kernel, so the weights are read once per batch.
 */
public final class Transformer {
  /** Prompt tokens evaluated together: each weight row is read once per batch. */
  public static final int MAX_BATCH = 64;
  /** Rows each batched-product task decodes together (the 4 x 4 kernel's height). */
  private static final int ROW_GROUP = 4;

  private final LlamaConfig c;
  private final LlamaWeights w;
  private final LoraAdapter lora;
  private final Parallel par;
  private final double[] invFreq;
  private final ThreadLocal<float[]> scratch;
  private final ThreadLocal<float[][]> rowScratch;
  /** Packed batch activations and products for the native batched kernels, per calling (session) thread. */
  private final ThreadLocal<Q8Batch> nativeBatch;

  public Transformer(LlamaConfig c, LlamaWeights w, LoraAdapter lora, Parallel par) {
    this.c = c;
    this.w = w;
    this.lora = lora;
    this.par = par;
    this.invFreq = new double[c.ropeDim() / 2];
    for (int i = 0; i < invFreq.length; i++) {
      double f = Math.pow(c.ropeBase(), -2.0 * i / c.ropeDim());
      invFreq[i] = w.ropeFreqs == null ? f : f / w.ropeFreqs[i];
    }
    int maxCols = Math.max(Math.max(c.dim(), c.ffnDim()), c.qDim());
    this.scratch = ThreadLocal.withInitial(() -> new float[maxCols]);
    this.rowScratch = ThreadLocal.withInitial(() -> new float[ROW_GROUP][maxCols]);
    int maxRows = Math.max(maxCols, c.kvDim());
    this.nativeBatch = ThreadLocal.withInitial(() -> new Q8Batch(MAX_BATCH, maxCols, maxRows));
  }

  public LlamaConfig config() {
    return c;
  }

  public LlamaWeights weights() {
    return w;
  }

  /** Per-session attention state: keys and values of every evaluated position, per layer, and reusable buffers. */
  public static final class KvCache {
    final float[][] k;
    final float[][] v;
    final int capacity;
    private Buffers buffers;

    public KvCache(LlamaConfig c, int capacity) {
      this.capacity = capacity;
      this.k = new float[c.layers()][];
      this.v = new float[c.layers()][];
      for (int l = 0; l < c.layers(); l++) {
        k[l] = new float[capacity * c.kvDim()];
        v[l] = new float[capacity * c.kvDim()];
      }
    }

    public int capacity() {
      return capacity;
    }

    Buffers buffers(LlamaConfig c) {
      if (buffers == null) {
        buffers = new Buffers(c);
      }
      return buffers;
    }
  }

  /** Activations of one batch, allocated once per session. */
  static final class Buffers {
    final float[][] x;
    final float[][] xb;
    final float[][] q;
    final float[][] k;
    final float[][] v;
    final float[][] att;
    final float[][] g;
    final float[][] u;
    final Q8Activation[] inDim;
    final Q8Activation[] inQ;
    final Q8Activation[] inFfn;
    final float[][] routerLogits;
    final float[][] moeOut;

    Buffers(LlamaConfig c) {
      int n = MAX_BATCH;
      x = new float[n][c.dim()];
      xb = new float[n][c.dim()];
      q = new float[n][c.qDim()];
      k = new float[n][c.kvDim()];
      v = new float[n][c.kvDim()];
      att = new float[n][c.qDim()];
      g = new float[n][c.ffnDim()];
      u = new float[n][c.ffnDim()];
      inDim = new Q8Activation[n];
      inQ = new Q8Activation[n];
      inFfn = new Q8Activation[n];
      for (int b = 0; b < n; b++) {
        inDim[b] = new Q8Activation(c.dim());
        inQ[b] = new Q8Activation(c.qDim());
        inFfn[b] = new Q8Activation(c.ffnDim());
      }
      routerLogits = c.moe() ? new float[n][c.experts()] : null;
      moeOut = c.moe() ? new float[n][c.dim()] : null;
    }
  }

  /**
   * Evaluates {@code n} tokens at positions {@code pos..pos+n-1} (at most {@link #MAX_BATCH}), filling the cache,
   * and returns the logits of the last one when {@code logits} is non-null (written into it).
   */
  public void forward(KvCache cache, int[] tokens, int from, int n, int pos, float[] logits) {
    if (n < 1 || n > MAX_BATCH) {
      throw new IllegalArgumentException("batch of " + n + " tokens, expected 1.." + MAX_BATCH);
    }
    if (pos + n > cache.capacity) {
      throw new IllegalStateException("context full: " + (pos + n) + " positions needed, " + cache.capacity
          + " available");
    }
    for (int b = 0; b < n; b++) {
      int t = tokens[from + b];
      if (t < 0 || t >= w.tokenEmbd.rows()) {
        throw new IllegalArgumentException("token id " + t + " is outside the vocabulary of " + w.tokenEmbd.rows());
      }
    }
    Buffers bf = cache.buffers(c);
    float[][] x = bf.x;
    float[][] xb = bf.xb;
    for (int b = 0; b < n; b++) {
      w.tokenEmbd.row(tokens[from + b], x[b], 0);
    }
    int kvDim = c.kvDim();
    for (int li = 0; li < c.layers(); li++) {
      LlamaWeights.Layer layer = w.layers.get(li);
      for (int b = 0; b < n; b++) {
        rmsNorm(x[b], layer.attnNorm, xb[b]);
        bf.inDim[b].set(xb[b]);
      }
      project(new QMatrix[] {layer.wq, layer.wk, layer.wv}, bf.inDim, n, bf.q, bf.k, bf.v);
      for (int b = 0; b < n; b++) {
        rope(bf.q[b], c.heads(), pos + b);
        rope(bf.k[b], c.kvHeads(), pos + b);
        System.arraycopy(bf.k[b], 0, cache.k[li], (pos + b) * kvDim, kvDim);
        System.arraycopy(bf.v[b], 0, cache.v[li], (pos + b) * kvDim, kvDim);
      }
      attention(cache, li, bf.q, bf.att, n, pos);
      for (int b = 0; b < n; b++) {
        bf.inQ[b].set(bf.att[b]);
      }
      project(new QMatrix[] {layer.wo}, bf.inQ, n, xb);
      for (int b = 0; b < n; b++) {
        add(x[b], xb[b]);
        rmsNorm(x[b], layer.ffnNorm, xb[b]);
        bf.inDim[b].set(xb[b]);
      }
      if (layer.moe()) {
        moe(layer, bf, n);
        for (int b = 0; b < n; b++) {
          add(x[b], bf.moeOut[b]);
        }
      } else {
        gatedUp(layer.wGate, layer.wUp, 0, bf.inDim, n, bf.g, bf.u);
        for (int b = 0; b < n; b++) {
          bf.inFfn[b].set(bf.g[b]);
        }
        project(new QMatrix[] {layer.wDown}, bf.inFfn, n, xb);
        for (int b = 0; b < n; b++) {
          add(x[b], xb[b]);
        }
      }
    }
    if (logits != null) {
      rmsNorm(x[n - 1], w.outputNorm, xb[0]);
      bf.inDim[0].set(xb[0]);
      project(new QMatrix[] {w.output}, new Q8Activation[] {bf.inDim[0]}, 1, new float[][] {logits});
    }
  }

  private void rmsNorm(float[] x, float[] weight, float[] out) {
    double ss = 0;
    for (float f : x) {
      ss += (double) f * f;
    }
    float scale = (float) (1.0 / Math.sqrt(ss / x.length + c.rmsEps()));
    for (int i = 0; i < x.length; i++) {
      out[i] = weight[i] * (scale * x[i]);
    }
  }

  private static void add(float[] x, float[] y) {
    for (int i = 0; i < x.length; i++) {
      x[i] += y[i];
    }
  }

  private static float silu(float s) {
    return (float) (s / (1.0 + Math.exp(-s)));
  }

  private void rope(float[] vec, int nHeads, int pos) {
    int hd = c.headDim();
    for (int i = 0; i < invFreq.length; i++) {
      double theta = pos * invFreq[i];
      float cos = (float) Math.cos(theta);
      float sin = (float) Math.sin(theta);
      for (int h = 0; h < nHeads; h++) {
        int o = h * hd + 2 * i;
        float a = vec[o];
        float b = vec[o + 1];
        vec[o] = a * cos - b * sin;
        vec[o + 1] = a * sin + b * cos;
      }
    }
  }

  private void attention(KvCache cache, int li, float[][] q, float[][] att, int n, int pos) {
    int hd = c.headDim();
    int kvDim = c.kvDim();
    int group = c.heads() / c.kvHeads();
    float scale = (float) (1.0 / Math.sqrt(hd));
    float[] keys = cache.k[li];
    float[] values = cache.v[li];
    par.forRange(n * c.heads(), 1, (from, to) -> {
      float[] scores = new float[pos + n];
      for (int task = from; task < to; task++) {
        int b = task / c.heads();
        int h = task % c.heads();
        int p = pos + b;
        int kvOff = (h / group) * hd;
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t <= p; t++) {
          float s = FloatKernels.dot(q[b], h * hd, keys, t * kvDim + kvOff, hd) * scale;
          scores[t] = s;
          max = Math.max(max, s);
        }
        double sum = 0;
        for (int t = 0; t <= p; t++) {
          float e = (float) Math.exp(scores[t] - max);
          scores[t] = e;
          sum += e;
        }
        float inv = (float) (1.0 / sum);
        float[] out = att[b];
        Arrays.fill(out, h * hd, h * hd + hd, 0f);
        for (int t = 0; t <= p; t++) {
          FloatKernels.axpy(scores[t] * inv, values, t * kvDim + kvOff, out, h * hd, hd);
        }
      }
    });
  }

  /**
   * {@code outs[i][b] = ms[i] · in[b]} for every matrix and the first {@code n} tokens, in one parallel region, plus
   * each matrix's LoRA term.
   */
  private void project(QMatrix[] ms, Q8Activation[] in, int n, float[][]... outs) {
    if (n == 1) {
      int total = 0;
      for (QMatrix m : ms) {
        total += m.rows();
        prepare(m, in[0]);
      }
      par.forRange(total, 2, (from, to) -> {
        float[] s = scratch.get();
        int base = 0;
        for (int i = 0; i < ms.length; i++) {
          QMatrix m = ms[i];
          int lo = Math.max(from, base) - base;
          int hi = Math.min(to, base + m.rows()) - base;
          matvec(m, 0, lo, hi, in[0], outs[i][0], s);
          base += m.rows();
        }
      });
    } else {
      for (int i = 0; i < ms.length; i++) {
        QMatrix m = ms[i];
        if (m.nativeBatchKernel()) {
          nativeMatmat(m, 0, m.rows(), in, n, outs[i]);
          continue;
        }
        float[][] xs = new float[n][];
        for (int b = 0; b < n; b++) {
          xs[b] = m.batchInput(in[b]);
        }
        float[][] out = outs[i];
        par.forRange(m.rows(), ROW_GROUP, (from, to) -> matmat(m, 0, from, to, xs, n, out));
      }
    }
    for (int i = 0; i < ms.length; i++) {
      addLora(ms[i], in, n, outs[i]);
    }
  }

  /**
   * Quantizes {@code a} to the grid {@code m} multiplies with before a parallel region: the grids are computed
   * lazily, and computing one inside the region would let workers race on it.
   */
  private static void prepare(QMatrix m, Q8Activation a) {
    if (m.integer()) {
      if (m.usesQ8K()) {
        a.q8_K();
      } else {
        a.q8_0();
      }
    }
  }

  /** Rows {@code [lo, hi)} of the matrix block starting at {@code rowBase}, times one activation, into {@code out}. */
  private static void matvec(QMatrix m, int rowBase, int lo, int hi, Q8Activation a, float[] out, float[] s) {
    m.dotRows(rowBase + lo, rowBase + hi, a, out, lo, s);
  }

  /**
   * Rows {@code [rowBase, rowBase + rows)} times {@code n} inputs by the native batched kernel (each weight block
   * unpacked once per four tokens, 8-bit multiply-adds) into {@code out[b][0..rows)}.
   */
  private void nativeMatmat(QMatrix m, int rowBase, int rows, Q8Activation[] in, int n, float[][] out) {
    // Quantizing 64 activations is a few percent of a batch's work: spread it over the threads too.
    par.forRange(n, 1, (from, to) -> {
      for (int b = from; b < to; b++) {
        prepare(m, in[b]);
      }
    });
    Q8Batch xb = nativeBatch.get().fill(m, in, n);
    float[] flat = xb.out;
    par.forRange(rows, ROW_GROUP, (from, to) -> {
      if (!m.dotRowsBatch(rowBase + from, rowBase + to, xb, flat, from, rows)) {
        throw new IllegalStateException("native batched kernel refused " + m);
      }
    });
    for (int b = 0; b < n; b++) {
      System.arraycopy(flat, b * rows, out[b], 0, rows);
    }
  }

  /**
   * Rows {@code [lo, hi)} of the block at {@code rowBase} times {@code n} inputs: each group of four rows is decoded
   * to floats once and multiplied with the inputs four at a time.
   */
  private void matmat(QMatrix m, int rowBase, int lo, int hi, float[][] xs, int n, float[][] out) {
    float[][] rows = rowScratch.get();
    int cols = m.cols();
    boolean vec = Kernels.AVAILABLE;
    int r = lo;
    for (; r + ROW_GROUP <= hi; r += ROW_GROUP) {
      for (int i = 0; i < ROW_GROUP; i++) {
        m.decodeRow(rowBase + r + i, rows[i]);
      }
      int b = 0;
      for (; vec && b + 4 <= n; b += 4) {
        FloatKernels.dot4x4(rows[0], rows[1], rows[2], rows[3], xs[b], xs[b + 1], xs[b + 2], xs[b + 3], cols,
            out[b], out[b + 1], out[b + 2], out[b + 3], r);
      }
      for (; b < n; b++) {
        for (int i = 0; i < ROW_GROUP; i++) {
          out[b][r + i] = FloatKernels.dot(rows[i], 0, xs[b], 0, cols);
        }
      }
    }
    for (; r < hi; r++) {
      m.decodeRow(rowBase + r, rows[0]);
      for (int b = 0; b < n; b++) {
        out[b][r] = FloatKernels.dot(rows[0], 0, xs[b], 0, cols);
      }
    }
  }

  private void addLora(QMatrix m, Q8Activation[] in, int n, float[][] out) {
    LoraAdapter.Pair p = lora == null ? null : lora.get(m.name());
    if (p == null) {
      return;
    }
    float[] s = scratch.get();
    for (int b = 0; b < n; b++) {
      float[] xf = in[b].floats();
      float[] t = new float[p.rank()];
      for (int r = 0; r < t.length; r++) {
        t[r] = p.a().dot(r, xf, 0, s) * p.scale();
      }
      float[] ob = out[b];
      for (int r = 0; r < ob.length && r < p.b().rows(); r++) {
        ob[r] += p.b().dot(r, t, 0, s);
      }
    }
  }

  /**
   * {@code g[b] = silu(gate · in[b]) * (up · in[b])} for the {@code ffn}-row block at {@code rowBase} of both
   * matrices (row 0 for a dense layer, {@code e * ffn} for expert e). For one token, gate and up rows are computed in
   * the same task and the SiLU product formed there; a batch runs two matrix-matrix products.
   */
  private void gatedUp(QMatrix gate, QMatrix up, int rowBase, Q8Activation[] in, int n, float[][] g, float[][] u) {
    int ffn = c.ffnDim();
    boolean adapted = lora != null && (lora.get(gate.name()) != null || lora.get(up.name()) != null);
    if (n == 1) {
      Q8Activation a = in[0];
      prepare(gate, a);
      prepare(up, a);
      float[] g0 = g[0];
      float[] u0 = u[0];
      par.forRange(ffn, 2, (from, to) -> {
        float[] s = scratch.get();
        matvec(gate, rowBase, from, to, a, g0, s);
        matvec(up, rowBase, from, to, a, u0, s);
        if (!adapted) {
          for (int r = from; r < to; r++) {
            g0[r] = silu(g0[r]) * u0[r];
          }
        }
      });
    } else if (gate.nativeBatchKernel() && up.nativeBatchKernel()) {
      nativeMatmat(gate, rowBase, ffn, in, n, g);
      nativeMatmat(up, rowBase, ffn, in, n, u);
    } else {
      float[][] xg = new float[n][];
      float[][] xu = new float[n][];
      for (int b = 0; b < n; b++) {
        xg[b] = gate.batchInput(in[b]);
        xu[b] = up.batchInput(in[b]);
      }
      par.forRange(ffn, ROW_GROUP, (from, to) -> {
        matmat(gate, rowBase, from, to, xg, n, g);
        matmat(up, rowBase, from, to, xu, n, u);
      });
    }
    if (n > 1 || adapted) {
      addLora(gate, in, n, g);
      addLora(up, in, n, u);
      for (int b = 0; b < n; b++) {
        float[] gb = g[b];
        float[] ub = u[b];
        for (int i = 0; i < ffn; i++) {
          gb[i] = silu(gb[i]) * ub[i];
        }
      }
    }
  }

  /**
   * Mixtral's sparse MoE block as llama.cpp builds it ({@code build_moe_ffn}, softmax gating, weights renormalised):
   * router logits, softmax, the {@code expertsUsed} most probable experts (lowest index first on ties), their
   * probabilities divided by their sum, and the weighted sum of those experts' SiLU-gated FFNs. Tokens of a batch are
   * grouped by expert so that each expert's weights are read once per batch.
   */
  private void moe(LlamaWeights.Layer layer, Buffers bf, int n) {
    int experts = c.experts();
    int used = c.expertsUsed();
    int dim = c.dim();
    project(new QMatrix[] {layer.ffnGateInp}, bf.inDim, n, bf.routerLogits);
    int[][] chosen = new int[n][used];
    float[][] weight = new float[n][used];
    for (int b = 0; b < n; b++) {
      route(bf.routerLogits[b], chosen[b], weight[b]);
      Arrays.fill(bf.moeOut[b], 0f);
    }
    int[] tok = new int[n];
    int[] slot = new int[n];
    for (int e = 0; e < experts; e++) {
      int m = 0;
      for (int b = 0; b < n; b++) {
        for (int k = 0; k < used; k++) {
          if (chosen[b][k] == e) {
            tok[m] = b;
            slot[m] = k;
            m++;
          }
        }
      }
      if (m == 0) {
        continue;
      }
      Q8Activation[] in = new Q8Activation[m];
      for (int j = 0; j < m; j++) {
        in[j] = bf.inDim[tok[j]];
      }
      gatedUp(layer.gateExps, layer.upExps, e * c.ffnDim(), in, m, bf.g, bf.u);
      for (int j = 0; j < m; j++) {
        bf.inFfn[j].set(bf.g[j]);
      }
      expertDown(layer.downExps, e * dim, bf.inFfn, m, bf.xb);
      for (int j = 0; j < m; j++) {
        float wt = weight[tok[j]][slot[j]];
        float[] o = bf.moeOut[tok[j]];
        float[] y = bf.xb[j];
        for (int i = 0; i < dim; i++) {
          o[i] += wt * y[i];
        }
      }
    }
  }

  private void expertDown(QMatrix down, int rowBase, Q8Activation[] in, int n, float[][] out) {
    int dim = c.dim();
    if (n == 1) {
      prepare(down, in[0]);
      par.forRange(dim, 2, (from, to) -> matvec(down, rowBase, from, to, in[0], out[0], scratch.get()));
    } else if (down.nativeBatchKernel()) {
      nativeMatmat(down, rowBase, dim, in, n, out);
    } else {
      float[][] xs = new float[n][];
      for (int b = 0; b < n; b++) {
        xs[b] = down.batchInput(in[b]);
      }
      par.forRange(dim, ROW_GROUP, (from, to) -> matmat(down, rowBase, from, to, xs, n, out));
    }
  }

  /** Softmax over the router logits, top-k, renormalised (llama.cpp's {@code norm_w} for Mixtral). */
  static void route(float[] logits, int[] chosen, float[] weight) {
    int experts = logits.length;
    float max = Float.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    float[] p = new float[experts];
    double sum = 0;
    for (int e = 0; e < experts; e++) {
      p[e] = (float) Math.exp(logits[e] - max);
      sum += p[e];
    }
    for (int e = 0; e < experts; e++) {
      p[e] = (float) (p[e] / sum);
    }
    boolean[] taken = new boolean[experts];
    double wsum = 0;
    for (int k = 0; k < chosen.length; k++) {
      int best = -1;
      for (int e = 0; e < experts; e++) {
        if (!taken[e] && (best < 0 || p[e] > p[best])) {
          best = e;
        }
      }
      taken[best] = true;
      chosen[k] = best;
      weight[k] = p[best];
      wsum += p[best];
    }
    for (int k = 0; k < chosen.length; k++) {
      weight[k] = (float) (weight[k] / wsum);
    }
  }
}

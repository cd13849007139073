package dev.securetag.gguf.internal.runtime;

/**
 * The llama forward pass in float32 (llama.cpp's graph for {@code LLM_ARCH_LLAMA}): RMSNorm, RoPE on adjacent
 * pairs of the already-permuted q/k rows, causal grouped-query attention over a KV cache, SiLU-gated MLP and the
 * output projection. Prompt tokens are processed in small batches so that each weight row, once in cache, is used
 * for every token of the batch; decoding is a batch of one.
 */
public final class Transformer {
  /** Prompt tokens evaluated together: enough to reuse each weight row, small enough for modest scratch memory. */
  public static final int MAX_BATCH = 32;

  private final LlamaConfig c;
  private final LlamaWeights w;
  private final LoraAdapter lora;
  private final Parallel par;
  private final double[] invFreq;
  private final ThreadLocal<float[]> scratch;

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
  }

  public LlamaConfig config() {
    return c;
  }

  public LlamaWeights weights() {
    return w;
  }

  /** Per-session attention state: keys and values of every evaluated position, per layer. */
  public static final class KvCache {
    final float[][] k;
    final float[][] v;
    final int capacity;

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
    int dim = c.dim();
    float[][] x = new float[n][dim];
    float[][] xb = new float[n][dim];
    float[][] q = new float[n][c.qDim()];
    float[][] k = new float[n][c.kvDim()];
    float[][] v = new float[n][c.kvDim()];
    float[][] att = new float[n][c.qDim()];
    float[][] g = new float[n][c.ffnDim()];
    float[][] u = new float[n][c.ffnDim()];
    for (int b = 0; b < n; b++) {
      int t = tokens[from + b];
      if (t < 0 || t >= w.tokenEmbd.rows()) {
        throw new IllegalArgumentException("token id " + t + " is outside the vocabulary of " + w.tokenEmbd.rows());
      }
      w.tokenEmbd.row(t, x[b], 0);
    }
    for (int li = 0; li < c.layers(); li++) {
      LlamaWeights.Layer layer = w.layers.get(li);
      for (int b = 0; b < n; b++) {
        rmsNorm(x[b], layer.attnNorm, xb[b]);
      }
      matmul(layer.wq, xb, q, n);
      matmul(layer.wk, xb, k, n);
      matmul(layer.wv, xb, v, n);
      int kvDim = c.kvDim();
      for (int b = 0; b < n; b++) {
        rope(q[b], c.heads(), pos + b);
        rope(k[b], c.kvHeads(), pos + b);
        System.arraycopy(k[b], 0, cache.k[li], (pos + b) * kvDim, kvDim);
        System.arraycopy(v[b], 0, cache.v[li], (pos + b) * kvDim, kvDim);
      }
      attention(cache, li, q, att, n, pos);
      matmul(layer.wo, att, xb, n);
      for (int b = 0; b < n; b++) {
        add(x[b], xb[b]);
        rmsNorm(x[b], layer.ffnNorm, xb[b]);
      }
      matmul(layer.wGate, xb, g, n);
      matmul(layer.wUp, xb, u, n);
      for (int b = 0; b < n; b++) {
        float[] gb = g[b];
        float[] ub = u[b];
        for (int i = 0; i < gb.length; i++) {
          float s = gb[i];
          gb[i] = (float) (s / (1.0 + Math.exp(-s))) * ub[i];
        }
      }
      matmul(layer.wDown, g, xb, n);
      for (int b = 0; b < n; b++) {
        add(x[b], xb[b]);
      }
    }
    if (logits != null) {
      float[][] last = {new float[dim]};
      rmsNorm(x[n - 1], w.outputNorm, last[0]);
      float[][] out = {logits};
      matmul(w.output, last, out, 1);
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
      for (int task = from; task < to; task++) {
        int b = task / c.heads();
        int h = task % c.heads();
        int p = pos + b;
        int kvOff = (h / group) * hd;
        float[] scores = new float[p + 1];
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t <= p; t++) {
          float s = VectorKernels.dot(q[b], h * hd, keys, t * kvDim + kvOff, hd) * scale;
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
        java.util.Arrays.fill(out, h * hd, h * hd + hd, 0f);
        for (int t = 0; t <= p; t++) {
          VectorKernels.axpy(scores[t] * inv, values, t * kvDim + kvOff, out, h * hd, hd);
        }
      }
    });
  }

  /** {@code out[b] = m · in[b]} for the first {@code n} rows of the batch, plus the LoRA term when present. */
  private void matmul(QMatrix m, float[][] in, float[][] out, int n) {
    par.forRange(m.rows(), 8, (from, to) -> {
      float[] s = scratch.get();
      if (n == 1) {
        for (int r = from; r < to; r++) {
          out[0][r] = m.dot(r, in[0], 0, s);
        }
        return;
      }
      // A batch decodes each row once and reuses the floats for every token, so unpacking the quantized
      // blocks (the expensive part) is paid once per row instead of once per token.
      int cols = m.cols();
      boolean vec = VectorKernels.AVAILABLE;
      for (int r = from; r < to; r++) {
        m.decodeRow(r, s);
        int b = 0;
        for (; vec && b + 4 <= n; b += 4) {
          VectorKernels.dot4(s, in[b], in[b + 1], in[b + 2], in[b + 3], cols, out[b], out[b + 1], out[b + 2],
              out[b + 3], r);
        }
        for (; b < n; b++) {
          out[b][r] = VectorKernels.dot(s, 0, in[b], 0, cols);
        }
      }
    });
    LoraAdapter.Pair p = lora == null ? null : lora.get(m.name());
    if (p != null) {
      float[] s = scratch.get();
      for (int b = 0; b < n; b++) {
        float[] t = new float[p.rank()];
        for (int r = 0; r < t.length; r++) {
          t[r] = p.a().dot(r, in[b], 0, s) * p.scale();
        }
        float[] ob = out[b];
        for (int r = 0; r < ob.length && r < p.b().rows(); r++) {
          ob[r] += p.b().dot(r, t, 0, s);
        }
      }
    }
  }
}

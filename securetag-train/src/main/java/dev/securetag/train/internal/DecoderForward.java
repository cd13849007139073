package dev.securetag.train.internal;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.securetag.core.HfConfig;
import dev.securetag.train.AttentionKernel;
import dev.securetag.train.Precision;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The decoder's math over {@link DecoderWeights}: the full-sequence forward pass (padding, packed rows, sliding
 * window, GQA, Mixtral routing; SDPA or explicit attention), incremental steps over a {@link KvCache}, the summed
 * next-token NLL, and one training step's forward and backward with optional gradient checkpointing and a chunked
 * loss head.
 */
public final class DecoderForward {
  /** Rows of the loss head per chunk: the logits of one chunk stay near 2^24 values. */
  private static final long HEAD_CHUNK_VALUES = 1L << 24;
  /**
   * Runs between a forward pass and its backward pass. Tests set it to force garbage collections there: a tensor that
   * aliases a Java buffer the collector may free is read by backward, never by forward, so only this order shows it.
   */
  public static volatile Runnable beforeBackward = () -> {};

  private final DecoderWeights weights;
  private final HfConfig config;
  private final NDManager manager;
  private final DataType dtype;
  private final Precision precision;
  private final AttentionKernel attention;
  private final TorchOps ops;
  private final float masked;
  private final NDArray embed;
  private final NDArray finalNorm;
  private final NDArray lmHead;
  private final List<DecoderWeights.Layer> layers;
  private final float[] invFreq;

  public DecoderForward(DecoderWeights weights) {
    this.weights = weights;
    this.config = weights.config();
    this.manager = weights.manager();
    this.dtype = weights.dtype();
    this.precision = weights.precision();
    this.attention = weights.attention();
    this.ops = weights.ops();
    this.masked = weights.masked();
    this.embed = weights.embed();
    this.finalNorm = weights.finalNorm();
    this.lmHead = weights.lmHead();
    this.layers = weights.layers();
    this.invFreq = weights.invFreq();
  }

  /** Keys and values of every layer for incremental decoding; close it to free them. */
  public static final class KvCache implements AutoCloseable {
    final NDArray[] keys;
    final NDArray[] values;
    int length;
    private boolean closed;

    public KvCache(int layers) {
      keys = new NDArray[layers];
      values = new NDArray[layers];
    }

    /** Tokens held. */
    public int length() {
      return length;
    }

    public boolean isClosed() {
      return closed;
    }

    void replace(int layer, NDArray k, NDArray v) {
      NDScope.unregister(k, v);
      if (keys[layer] != null) {
        keys[layer].close();
        values[layer].close();
      }
      keys[layer] = k;
      values[layer] = v;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        for (int i = 0; i < keys.length; i++) {
          if (keys[i] != null) {
            keys[i].close();
            values[i].close();
          }
        }
      }
    }
  }

  /** A fresh, empty cache for this model. */
  public KvCache newCache() {
    return new KvCache(layers.size());
  }

  /** Logits for every position of one sequence ({@code [T][vocab]}), full precision floats. */
  public float[][] logits(int[] tokens) {
    return noGrad(() -> {
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        NDArray out = forward(new int[][] {tokens}, new int[] {tokens.length}, null, null);
        return toRows(out, tokens.length);
      }
    });
  }

  /** Appends {@code tokens} to {@code cache} and returns their logits ({@code [tokens.length][vocab]}). */
  public float[][] append(KvCache cache, int... tokens) {
    if (cache.isClosed()) {
      throw new IllegalStateException("session is closed");
    }
    return noGrad(() -> {
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        NDArray out = forward(new int[][] {tokens}, new int[] {tokens.length}, cache, null);
        return toRows(out, tokens.length);
      }
    });
  }

  /**
   * Runs {@code f} with libtorch's grad mode off. Grad mode is per thread and starts enabled on threads DJL did not
   * initialise, so inference there would otherwise record a graph.
   */
  public static <T> T noGrad(java.util.function.Supplier<T> f) {
    boolean gradMode = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    try {
      return f.get();
    } finally {
      JniUtils.setGradMode(gradMode);
    }
  }


  public float[][] toRows(NDArray logits, int t) {
    float[] flat = logits.toType(DataType.FLOAT32, false).toFloatArray();
    int v = config.vocabSize();
    float[][] rows = new float[t][];
    for (int i = 0; i < t; i++) {
      rows[i] = Arrays.copyOfRange(flat, i * v, (i + 1) * v);
    }
    return rows;
  }


  /**
   * The decoder forward pass. {@code tokens} is right-padded to a common length; {@code lengths} gives each row's
   * real length (keys beyond it are masked). With a cache, the new keys/values are appended to it.
   * {@code dropoutRng} non-null means training mode (LoRA dropout active). Returns logits {@code [B, T, V]}.
   */
  public NDArray forward(int[][] tokens, int[] lengths, KvCache cache, SplittableRandom dropoutRng) {
    return forward(tokens, lengths, null, cache, dropoutRng);
  }

  /**
   * As {@link #forward(int[][], int[], KvCache, SplittableRandom)}; {@code segments} (null = one sequence per row)
   * gives each token's document index for packed rows: positions restart at 0 for every document and attention stays
   * inside it (block-diagonal causal mask).
   */
  public NDArray forward(int[][] tokens, int[] lengths, int[][] segments, KvCache cache,
      SplittableRandom dropoutRng) {
    Pass p = prepare(tokens, lengths, segments, cache, dropoutRng);
    NDArray x = embedTokens(tokens);
    for (int li = 0; li < layers.size(); li++) {
      x = layer(li, x, p);
    }
    if (cache != null) {
      cache.length = p.tk;
    }
    return head(rmsNorm(x, finalNorm));
  }

  /** What the layers of one forward pass share: sizes, RoPE tables, the mask, the cache and dropout seeds. */
  private static final class Pass {
    int b;
    int t;
    int tk;
    NDArray[] cs;
    /** Null for plain causal attention through SDPA (no mask tensor, flash kernels apply). */
    NDArray mask;
    KvCache cache;
    boolean dropout;
    long dropoutSeed;

    /**
     * Each layer draws its dropout masks from its own stream, so recomputing a checkpointed layer in backward repeats
     * exactly the masks of its forward pass.
     */
    SplittableRandom layerRng(int li) {
      return dropout ? new SplittableRandom(dropoutSeed + 0x9E3779B97F4A7C15L * (li + 1)) : null;
    }
  }

  private Pass prepare(int[][] tokens, int[] lengths, int[][] segments, KvCache cache, SplittableRandom dropoutRng) {
    if (segments != null && cache != null) {
      throw new IllegalArgumentException("packed rows cannot use a KV cache");
    }
    Pass p = new Pass();
    p.b = tokens.length;
    p.t = tokens[0].length;
    int past = cache == null ? 0 : cache.length;
    p.tk = past + p.t;
    p.cache = cache;
    p.dropout = dropoutRng != null;
    p.dropoutSeed = dropoutRng == null ? 0 : dropoutRng.nextLong();
    for (int[] row : tokens) {
      if (row.length != p.t) {
        throw new IllegalArgumentException("rows must be padded to one length");
      }
      for (int id : row) {
        if (id < 0 || id >= config.vocabSize()) {
          throw new IllegalArgumentException("token id " + id + " outside vocabulary of " + config.vocabSize());
        }
      }
    }
    p.cs = segments == null ? rope(manager, past, p.t) : packedRope(manager, segments);
    boolean full = true;
    for (int len : lengths) {
      full &= len == p.t;
    }
    int window = config.slidingWindow().orElse(0);
    boolean causalOnly = segments == null && past == 0 && full && (window <= 0 || window >= p.t);
    if (attention == AttentionKernel.SDPA && causalOnly) {
      p.mask = null;
    } else {
      p.mask = segments == null ? mask(manager, p.b, p.t, past, lengths) : packedMask(manager, segments, lengths);
    }
    return p;
  }

  private NDArray embedTokens(int[][] tokens) {
    int b = tokens.length;
    int t = tokens[0].length;
    long[] flat = new long[b * t];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < t; j++) {
        flat[i * t + j] = tokens[i][j];
      }
    }
    return embed.get(new NDIndex("{}", Tensors.of(manager, flat, new Shape(flat.length))))
        .reshape(b, t, config.hiddenSize());
  }

  /**
   * Decoder layer {@code li}: {@code h = x + attn(norm(x)); out = h + mlp(norm(h))}. Only the output stays in the
   * caller's scope; of the intermediates, only what autograd saved for backward survives the call.
   */
  private NDArray layer(int li, NDArray x, Pass p) {
    return Tensors.scoped(() -> layerBody(li, x, p));
  }

  private NDArray layerBody(int li, NDArray x, Pass p) {
    DecoderWeights.Layer layer = layers.get(li);
    NDManager m = manager;
    SplittableRandom rng = p.layerRng(li);
    int b = p.b;
    int t = p.t;
    int nh = config.numAttentionHeads();
    int nkv = config.numKeyValueHeads();
    int hd = config.headDim();
    NDArray hn = rmsNorm(x, layer.inputNorm);
    NDArray q = Tensors.scoped(() -> applyRope(layer.q.forward(hn, m, ops, rng).reshape(b, t, nh, hd)
        .transpose(0, 2, 1, 3), p.cs[0], p.cs[1], hd));
    NDArray[] kv = Tensors.scopedAll(() -> {
      NDArray k = applyRope(layer.k.forward(hn, m, ops, rng).reshape(b, t, nkv, hd).transpose(0, 2, 1, 3), p.cs[0],
          p.cs[1], hd);
      NDArray v = layer.v.forward(hn, m, ops, rng).reshape(b, t, nkv, hd).transpose(0, 2, 1, 3);
      KvCache cache = p.cache;
      if (cache != null) {
        if (cache.keys[li] != null) {
          k = cache.keys[li].concat(k, 2);
          v = cache.values[li].concat(v, 2);
        }
        cache.replace(li, k, v);
      }
      if (nkv != nh) {
        int rep = nh / nkv;
        k = k.expandDims(2).broadcast(b, nkv, rep, p.tk, hd).reshape(b, nh, p.tk, hd);
        v = v.expandDims(2).broadcast(b, nkv, rep, p.tk, hd).reshape(b, nh, p.tk, hd);
      } else if (cache != null) {
        // The cache owns k and v; hand out views so closing the caller's scope leaves the cache intact.
        k = k.reshape(k.getShape());
        v = v.reshape(v.getShape());
      }
      return new NDArray[] {k, v};
    });
    NDArray attn = Tensors.scoped(() -> {
      NDArray a;
      if (attention == AttentionKernel.SDPA) {
        a = ops.attention(q, kv[0], kv[1], p.mask);
      } else {
        NDArray scores = q.matMul(kv[0].transpose(0, 1, 3, 2)).mul(Tensors.scalar(m, 1.0 / Math.sqrt(hd), dtype))
            .add(p.mask);
        a = scores.softmax(-1).matMul(kv[1]);
      }
      return a.transpose(0, 2, 1, 3).reshape(b, t, nh * hd);
    });
    NDArray x1 = Tensors.scoped(() -> x.add(layer.o.forward(attn, m, ops, rng)));
    NDArray h2 = rmsNorm(x1, layer.postNorm);
    return x1.add(layer.router != null ? moe(layer, h2, m, rng) : mlp(layer.gate, layer.up, layer.down, h2, m, rng));
  }

  /** Logits of normalised hidden states, in the matmul precision (values in the parameter dtype). */
  private NDArray head(NDArray normed) {
    return precision == Precision.FP32 ? normed.matMul(lmHead.transpose()) : ops.linear(normed, lmHead);
  }

  /** Loss and time split of one {@link #trainBackward} call. */
  public record TrainStep(double nllSum, long forwardNanos, long backwardNanos, long forwardDequantNanos,
      long backwardDequantNanos) {}

  /**
   * Forward and backward of one micro-batch: LoRA gradients of {@code gradScale · nllSum} are added to the adapter
   * parameters' gradients. Must be called with no {@link GradientCollector} open. With {@code checkpoint}, the forward
   * pass records no graph and keeps only each decoder layer's input; backward then walks the layers in reverse,
   * recomputes each one with recording (dequantizing its NF4 weights again) and back-propagates the upstream gradient
   * through it, so at most one layer's activations and dequantized weights exist at a time. The loss head runs in
   * chunks of rows so the {@code [tokens, vocab]} logits never exist whole.
   */
  public TrainStep trainBackward(int[][] tokens, int[] lengths, int[][] segments, int[][] targets, SplittableRandom dropoutRng,
      double gradScale, boolean checkpoint) {
    long t0 = System.nanoTime();
    long d0 = weights.dequantNanos();
    if (!checkpoint) {
      try (NDScope scope = new NDScope(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        scope.suppressNotUsedWarning();
        NDArray nll = nllSum(tokens, lengths, segments, targets, dropoutRng);
        double loss = nll.toType(DataType.FLOAT64, false).getDouble();
        long t1 = System.nanoTime();
        long d1 = weights.dequantNanos();
        beforeBackward.run();
        gc.backward(nll.mul(Tensors.scalar(manager, gradScale, nll.getDataType())));
        return new TrainStep(loss, t1 - t0, System.nanoTime() - t1, d1 - d0, weights.dequantNanos() - d1);
      }
    }
    int n = layers.size();
    NDArray[] saved = new NDArray[n + 1];
    double loss = 0;
    long t1;
    long d1;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      Pass p = prepare(tokens, lengths, segments, null, dropoutRng);
      saved[0] = embedTokens(tokens);
      // libtorch's grad mode is per thread and starts enabled on threads DJL did not initialise: switch it off
      // explicitly, or this pass would record a graph.
      boolean gradMode = JniUtils.isGradMode();
      JniUtils.setGradMode(false);
      try {
        for (int li = 0; li < n; li++) {
          try (NDScope ls = new NDScope()) {
            ls.suppressNotUsedWarning();
            NDArray out = layer(li, saved[li], p);
            NDScope.unregister(out);
            saved[li + 1] = out;
          }
        }
      } finally {
        JniUtils.setGradMode(gradMode);
      }
      t1 = System.nanoTime();
      d1 = weights.dequantNanos();
      NDArray grad;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray last = saved[n];
        last.setRequiresGradient(true);
        beforeBackward.run();
        loss = headBackward(gc, last, targets, gradScale);
        grad = last.getGradient();
        NDScope.unregister(grad);
      }
      for (int li = n - 1; li >= 0; li--) {
        boolean needInputGrad = li > 0;
        if (!needInputGrad && layers.get(li).linears().stream().noneMatch(Linear::hasLora)) {
          break;
        }
        try (NDScope ls = new NDScope(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          ls.suppressNotUsedWarning();
          NDArray in = saved[li];
          if (needInputGrad) {
            in.setRequiresGradient(true);
          }
          NDArray out = layer(li, in, p);
          beforeBackward.run();
          JniUtils.backward((PtNDArray) out, (PtNDArray) grad, false, false);
          NDArray next = null;
          if (needInputGrad) {
            next = in.getGradient();
            NDScope.unregister(next);
          }
          grad.close();
          grad = next;
        }
        if (li > 0) {
          saved[li].close();
          saved[li] = null;
        }
      }
      if (grad != null) {
        grad.close();
      }
    } finally {
      for (int i = 1; i < saved.length; i++) {
        if (saved[i] != null) {
          saved[i].close();
        }
      }
    }
    return new TrainStep(loss, t1 - t0, System.nanoTime() - t1, d1 - d0, weights.dequantNanos() - d1);
  }

  /**
   * Loss head over the final hidden states {@code last [B, T, H]} (a leaf requiring gradient) in chunks of rows:
   * norm, lm_head, log-softmax and the picked targets of each chunk are built and back-propagated on their own, the
   * gradient of {@code last} accumulating across chunks. Returns the summed NLL.
   */
  private double headBackward(GradientCollector gc, NDArray last, int[][] targets, double gradScale) {
    int b = targets.length;
    int t = targets[0].length;
    int rows = b * t;
    int chunk = (int) Math.max(1, Math.min(rows, HEAD_CHUNK_VALUES / config.vocabSize()));
    double loss = 0;
    for (int from = 0; from < rows; from += chunk) {
      int to = Math.min(rows, from + chunk);
      long[] idx = new long[to - from];
      float[] weight = new float[to - from];
      boolean any = false;
      for (int r = from; r < to; r++) {
        int target = targets[r / t][r % t];
        if (target != IGNORE) {
          idx[r - from] = target;
          weight[r - from] = 1f;
          any = true;
        }
      }
      if (!any) {
        continue;
      }
      try (NDScope cs = new NDScope()) {
        cs.suppressNotUsedWarning();
        NDArray rowsOf = last.reshape(rows, config.hiddenSize()).get(new NDIndex(from + ":" + to));
        NDArray logp = head(rmsNorm(rowsOf, finalNorm)).logSoftmax(1);
        NDArray picked = logp.gather(Tensors.of(manager, idx, new Shape(to - from, 1)), 1).reshape(to - from);
        NDArray nll = picked.mul(Tensors.of(manager, weight, new Shape(to - from), dtype)).sum().neg();
        loss += nll.toType(DataType.FLOAT64, false).getDouble();
        gc.backward(nll.mul(Tensors.scalar(manager, gradScale, dtype)));
      }
    }
    return loss;
  }

  /**
   * Summed next-token negative log-likelihood: {@code targets[b][t]} is the id position t must predict (already
   * shifted), or {@link #IGNORE} to leave the position out. Computed in the model's compute precision.
   */
  public NDArray nllSum(int[][] tokens, int[] lengths, int[][] targets, SplittableRandom dropoutRng) {
    return nllSum(tokens, lengths, null, targets, dropoutRng);
  }

  /** {@link #nllSum(int[][], int[], int[][], SplittableRandom)} for packed rows (see segments in forward). */
  public NDArray nllSum(int[][] tokens, int[] lengths, int[][] segments, int[][] targets,
      SplittableRandom dropoutRng) {
    int b = tokens.length;
    int t = tokens[0].length;
    NDArray logp = Tensors.scoped(() -> forward(tokens, lengths, segments, null, dropoutRng).logSoftmax(2));
    long[] idx = new long[b * t];
    float[] weight = new float[b * t];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < t; j++) {
        int target = targets[i][j];
        if (target != IGNORE) {
          idx[i * t + j] = target;
          weight[i * t + j] = 1f;
        }
      }
    }
    NDArray picked = logp.gather(Tensors.of(manager, idx, new Shape(b, t, 1)), 2).reshape(b, t);
    NDArray w = Tensors.of(manager, weight, new Shape(b, t), dtype);
    return picked.mul(w).sum().neg();
  }

  /** Label value of positions excluded from the loss (HF's ignore_index). */
  public static final int IGNORE = -100;

  private NDArray mlp(Linear gate, Linear up, Linear down, NDArray x, NDManager m, SplittableRandom rng) {
    NDArray g = gate.forward(x, m, ops, rng);
    NDArray silu = g.mul(Activation.sigmoid(g));
    return down.forward(silu.mul(up.forward(x, m, ops, rng)), m, ops, rng);
  }

  /**
   * Mixtral's sparse MoE block: softmax router, top-k experts renormalised to sum 1. Every expert is evaluated
   * densely and weighted (zero weight for unselected ones) so the result stays differentiable; fine for the small
   * models trained on CPU.
   */
  private NDArray moe(DecoderWeights.Layer layer, NDArray x, NDManager m, SplittableRandom rng) {
    NDArray probs = layer.router.forward(x, m, ops, rng).softmax(-1);
    int e = config.numLocalExperts();
    int topK = config.numExpertsPerTok();
    double[] p = probs.toType(DataType.FLOAT64, false).toDoubleArray();
    int rows = p.length / e;
    float[] sel = new float[p.length];
    Integer[] order = new Integer[e];
    for (int r = 0; r < rows; r++) {
      final int base = r * e;
      for (int i = 0; i < e; i++) {
        order[i] = i;
      }
      Arrays.sort(order, (a, c) -> p[base + c] != p[base + a] ? Double.compare(p[base + c], p[base + a])
          : Integer.compare(a, c));
      for (int i = 0; i < topK; i++) {
        sel[base + order[i]] = 1f;
      }
    }
    NDArray selMask = Tensors.of(m, sel, probs.getShape(), probs.getDataType());
    NDArray w = probs.mul(selMask);
    w = w.div(w.sum(new int[] {-1}, true));
    NDArray out = null;
    for (int i = 0; i < e; i++) {
      Linear[] ex = layer.experts.get(i);
      NDArray y = mlp(ex[0], ex[1], ex[2], x, m, rng).mul(w.get(new NDIndex(":, :, " + i + ":" + (i + 1))));
      out = out == null ? y : out.add(y);
    }
    return out;
  }

  private NDArray rmsNorm(NDArray x, NDArray weight) {
    return Tensors.scoped(() -> {
      NDArray var = x.square().mean(new int[] {-1}, true);
      return x.div(var.add(Tensors.scalar(manager, config.rmsNormEps(), dtype)).sqrt()).mul(weight);
    });
  }

  private NDArray[] rope(NDManager m, int past, int t) {
    int hd = config.headDim();
    int half = hd / 2;
    float[] cos = new float[t * hd];
    float[] sin = new float[t * hd];
    for (int i = 0; i < t; i++) {
      for (int j = 0; j < half; j++) {
        float f = (past + i) * invFreq[j];
        float c = (float) Math.cos(f);
        float s = (float) Math.sin(f);
        cos[i * hd + j] = c;
        cos[i * hd + j + half] = c;
        sin[i * hd + j] = s;
        sin[i * hd + j + half] = s;
      }
    }
    return new NDArray[] {Tensors.of(m, cos, new Shape(1, 1, t, hd), dtype),
        Tensors.of(m, sin, new Shape(1, 1, t, hd), dtype)};
  }

  private static NDArray applyRope(NDArray x, NDArray cos, NDArray sin, int hd) {
    NDList halves = x.split(new long[] {hd / 2}, 3);
    NDArray rotated = halves.get(1).neg().concat(halves.get(0), 3);
    return x.mul(cos).add(rotated.mul(sin));
  }

  /** Positions restart at 0 at every document boundary of a packed row. */
  public static int[][] packedPositions(int[][] segments) {
    int[][] pos = new int[segments.length][];
    for (int bi = 0; bi < segments.length; bi++) {
      int[] seg = segments[bi];
      pos[bi] = new int[seg.length];
      for (int i = 1; i < seg.length; i++) {
        pos[bi][i] = seg[i] == seg[i - 1] ? pos[bi][i - 1] + 1 : 0;
      }
    }
    return pos;
  }

  private NDArray[] packedRope(NDManager m, int[][] segments) {
    int b = segments.length;
    int t = segments[0].length;
    int hd = config.headDim();
    int half = hd / 2;
    int[][] pos = packedPositions(segments);
    float[] cos = new float[b * t * hd];
    float[] sin = new float[b * t * hd];
    for (int bi = 0; bi < b; bi++) {
      for (int i = 0; i < t; i++) {
        int base = (bi * t + i) * hd;
        for (int j = 0; j < half; j++) {
          float f = pos[bi][i] * invFreq[j];
          float c = (float) Math.cos(f);
          float sn = (float) Math.sin(f);
          cos[base + j] = c;
          cos[base + j + half] = c;
          sin[base + j] = sn;
          sin[base + j + half] = sn;
        }
      }
    }
    return new NDArray[] {Tensors.of(m, cos, new Shape(b, 1, t, hd), dtype),
        Tensors.of(m, sin, new Shape(b, 1, t, hd), dtype)};
  }

  private NDArray packedMask(NDManager m, int[][] segments, int[] lengths) {
    int b = segments.length;
    int t = segments[0].length;
    int window = config.slidingWindow().orElse(0);
    float[] mk = new float[b * t * t];
    for (int bi = 0; bi < b; bi++) {
      for (int i = 0; i < t; i++) {
        for (int j = 0; j < t; j++) {
          boolean ok = j <= i && segments[bi][j] == segments[bi][i] && (window <= 0 || i - j < window)
              && j < lengths[bi];
          mk[(bi * t + i) * t + j] = ok ? 0f : masked;
        }
      }
    }
    return Tensors.of(m, mk, new Shape(b, 1, t, t), dtype);
  }

  private NDArray mask(NDManager m, int b, int t, int past, int[] lengths) {
    int tk = past + t;
    int window = config.slidingWindow().orElse(0);
    float[] mk = new float[b * t * tk];
    for (int bi = 0; bi < b; bi++) {
      for (int i = 0; i < t; i++) {
        int pos = past + i;
        for (int j = 0; j < tk; j++) {
          boolean ok = j <= pos && (window <= 0 || pos - j < window) && (j < past || j - past < lengths[bi]);
          mk[(bi * t + i) * tk + j] = ok ? 0f : masked;
        }
      }
    }
    return Tensors.of(m, mk, new Shape(b, 1, t, tk), dtype);
  }
}

package dev.securetag.gguf.runtime.internal;

import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.gguf.GgmlType;
import dev.securetag.gguf.GgufFormatException;
import dev.securetag.gguf.GgufReader;
import dev.securetag.gguf.GgufTensorInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The tensors of a llama GGUF, mapped read-only; matrices stay in their file type, norms are decoded to floats. */
public final class LlamaWeights {
  public final QMatrix tokenEmbd;
  public final QMatrix output;
  public final float[] outputNorm;
  public final float[] ropeFreqs;
  public final List<Layer> layers;

  /**
   * One transformer block. A dense block has {@code wGate/wUp/wDown}; a mixture-of-experts block (Mixtral) has the
   * router {@code ffnGateInp} ({@code [dim, experts]}, F32) and the experts stacked as llama.cpp stores them
   * ({@code ffn_*_exps}, {@code ne = [in, out, experts]}): expert {@code e} is rows {@code [e*out, (e+1)*out)}.
   */
  public static final class Layer {
    public final float[] attnNorm;
    public final QMatrix wq;
    public final QMatrix wk;
    public final QMatrix wv;
    public final QMatrix wo;
    public final float[] ffnNorm;
    public final QMatrix wGate;
    public final QMatrix wUp;
    public final QMatrix wDown;
    public final QMatrix ffnGateInp;
    public final QMatrix gateExps;
    public final QMatrix upExps;
    public final QMatrix downExps;

    Layer(float[] attnNorm, QMatrix wq, QMatrix wk, QMatrix wv, QMatrix wo, float[] ffnNorm, QMatrix wGate,
        QMatrix wUp, QMatrix wDown) {
      this(attnNorm, wq, wk, wv, wo, ffnNorm, wGate, wUp, wDown, null, null, null, null);
    }

    Layer(float[] attnNorm, QMatrix wq, QMatrix wk, QMatrix wv, QMatrix wo, float[] ffnNorm, QMatrix wGate,
        QMatrix wUp, QMatrix wDown, QMatrix ffnGateInp, QMatrix gateExps, QMatrix upExps, QMatrix downExps) {
      this.attnNorm = attnNorm;
      this.wq = wq;
      this.wk = wk;
      this.wv = wv;
      this.wo = wo;
      this.ffnNorm = ffnNorm;
      this.wGate = wGate;
      this.wUp = wUp;
      this.wDown = wDown;
      this.ffnGateInp = ffnGateInp;
      this.gateExps = gateExps;
      this.upExps = upExps;
      this.downExps = downExps;
    }

    /** True for a mixture-of-experts block. */
    public boolean moe() {
      return ffnGateInp != null;
    }

    /** Every matrix of the block (the stacked expert tensors count whole). */
    public List<QMatrix> matrices() {
      return moe() ? List.of(wq, wk, wv, wo, ffnGateInp, gateExps, upExps, downExps)
          : List.of(wq, wk, wv, wo, wGate, wUp, wDown);
    }
  }

  private LlamaWeights(QMatrix tokenEmbd, QMatrix output, float[] outputNorm, float[] ropeFreqs, List<Layer> layers) {
    this.tokenEmbd = tokenEmbd;
    this.output = output;
    this.outputNorm = outputNorm;
    this.ropeFreqs = ropeFreqs;
    this.layers = layers;
  }

  /** Maps every tensor the forward pass needs and checks its shape against {@code c}. */
  public static LlamaWeights load(GgufReader r, LlamaConfig c, boolean vector) {
    return load(r, c, vector, vector);
  }

  /** {@code nativeKernels}: let quantized matrices use {@link NativeKernels} where they are loaded. */
  public static LlamaWeights load(GgufReader r, LlamaConfig c, boolean vector, boolean nativeKernels) {
    for (GgufTensorInfo t : r.tensors()) {
      if (t.name().endsWith(".bias")) {
        throw new UnsupportedFormatException(r.file() + ": tensor '" + t.name() + "'",
            "bias tensors are not supported by the CPU runtime");
      }
    }
    QMatrix embd = matrix(r, "token_embd.weight", c.dim(), c.vocabSize(), vector, nativeKernels);
    QMatrix out = r.tensor("output.weight").isPresent()
        ? matrix(r, "output.weight", c.dim(), c.vocabSize(), vector, nativeKernels)
        : embd;
    float[] outNorm = vector(r, "output_norm.weight", c.dim());
    float[] ropeFreqs = r.tensor("rope_freqs.weight").isPresent()
        ? vector(r, "rope_freqs.weight", c.ropeDim() / 2) : null;
    List<Layer> layers = new ArrayList<>();
    for (int i = 0; i < c.layers(); i++) {
      String p = "blk." + i + ".";
      float[] attnNorm = vector(r, p + "attn_norm.weight", c.dim());
      QMatrix wq = matrix(r, p + "attn_q.weight", c.dim(), c.qDim(), vector, nativeKernels);
      QMatrix wk = matrix(r, p + "attn_k.weight", c.dim(), c.kvDim(), vector, nativeKernels);
      QMatrix wv = matrix(r, p + "attn_v.weight", c.dim(), c.kvDim(), vector, nativeKernels);
      QMatrix wo = matrix(r, p + "attn_output.weight", c.qDim(), c.dim(), vector, nativeKernels);
      float[] ffnNorm = vector(r, p + "ffn_norm.weight", c.dim());
      if (c.moe()) {
        layers.add(new Layer(attnNorm, wq, wk, wv, wo, ffnNorm, null, null, null,
            matrix(r, p + "ffn_gate_inp.weight", c.dim(), c.experts(), vector, nativeKernels),
            experts(r, p + "ffn_gate_exps.weight", c.dim(), c.ffnDim(), c.experts(), vector, nativeKernels),
            experts(r, p + "ffn_up_exps.weight", c.dim(), c.ffnDim(), c.experts(), vector, nativeKernels),
            experts(r, p + "ffn_down_exps.weight", c.ffnDim(), c.dim(), c.experts(), vector, nativeKernels)));
      } else {
        layers.add(new Layer(attnNorm, wq, wk, wv, wo, ffnNorm,
            matrix(r, p + "ffn_gate.weight", c.dim(), c.ffnDim(), vector, nativeKernels),
            matrix(r, p + "ffn_up.weight", c.dim(), c.ffnDim(), vector, nativeKernels),
            matrix(r, p + "ffn_down.weight", c.ffnDim(), c.dim(), vector, nativeKernels)));
      }
    }
    return new LlamaWeights(embd, out, outNorm, ropeFreqs, List.copyOf(layers));
  }

  /**
   * Bytes of weights one decoded token reads (every matrix once, the embedding row aside; of the stacked experts only
   * the {@code expertsUsed} a token is routed to).
   */
  public long bytesPerToken(int experts, int expertsUsed) {
    long b = output.bytes();
    for (Layer l : layers) {
      for (QMatrix m : l.matrices()) {
        boolean stacked = m == l.gateExps || m == l.upExps || m == l.downExps;
        b += stacked ? m.bytes() / experts * expertsUsed : m.bytes();
      }
    }
    return b;
  }

  /** Total parameters in matrices and norms. */
  public long parameterCount() {
    long n = (long) tokenEmbd.rows() * tokenEmbd.cols() + outputNorm.length;
    if (output != tokenEmbd) {
      n += (long) output.rows() * output.cols();
    }
    for (Layer l : layers) {
      n += l.attnNorm.length + l.ffnNorm.length;
      for (QMatrix m : l.matrices()) {
        n += (long) m.rows() * m.cols();
      }
    }
    return n;
  }

  static QMatrix matrix(GgufReader r, String name, int cols, int rows, boolean vector, boolean nativeKernels) {
    GgufTensorInfo t = require(r, name);
    long[] ne = t.ne();
    if (ne.length != 2 || ne[0] != cols || ne[1] != rows) {
      throw new GgufFormatException(r.file() + ": tensor '" + name + "'", "shape " + java.util.Arrays.toString(ne)
          + " does not match the hyper-parameters, expected [" + cols + ", " + rows + "]");
    }
    return new QMatrix(name, t.type(), r.tensorData(name), rows, cols, vector, nativeKernels);
  }

  /** A stacked expert tensor {@code ne = [cols, rows, experts]} as one matrix of {@code experts * rows} rows. */
  static QMatrix experts(GgufReader r, String name, int cols, int rows, int experts, boolean vector,
      boolean nativeKernels) {
    GgufTensorInfo t = require(r, name);
    long[] ne = t.ne();
    if (ne.length != 3 || ne[0] != cols || ne[1] != rows || ne[2] != experts) {
      throw new GgufFormatException(r.file() + ": tensor '" + name + "'", "shape " + java.util.Arrays.toString(ne)
          + " does not match the hyper-parameters, expected [" + cols + ", " + rows + ", " + experts + "]");
    }
    return new QMatrix(name, t.type(), r.tensorData(name), rows * experts, cols, vector, nativeKernels);
  }

  static float[] vector(GgufReader r, String name, int n) {
    GgufTensorInfo t = require(r, name);
    if (t.numel() != n) {
      throw new GgufFormatException(r.file() + ": tensor '" + name + "'", "has " + t.numel()
          + " elements, expected " + n);
    }
    if (!t.type().canQuantize()) {
      throw new UnsupportedFormatException(r.file() + ": tensor '" + name + "'", "type " + t.type()
          + " is not supported");
    }
    return r.readFloats(name);
  }

  static GgufTensorInfo require(GgufReader r, String name) {
    Optional<GgufTensorInfo> t = r.tensor(name);
    return t.orElseThrow(() -> new GgufFormatException(r.file() + ": tensor '" + name + "'", "missing tensor"));
  }

  /** The most common matrix type, for display ("Q4_K" for a Q4_K_M file). */
  public GgmlType dominantType() {
    java.util.Map<GgmlType, Long> bytes = new java.util.EnumMap<>(GgmlType.class);
    for (Layer l : layers) {
      for (QMatrix m : l.matrices()) {
        bytes.merge(m.type(), m.bytes(), Long::sum);
      }
    }
    return bytes.entrySet().stream().max(java.util.Map.Entry.comparingByValue()).map(java.util.Map.Entry::getKey)
        .orElse(tokenEmbd.type());
  }
}

package dev.securetag.train.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * libtorch operations DJL 0.36 does not offer, run as tiny TorchScript modules written here as source text (no Python
 * involved) and loaded through DJL's module loader: differentiable dtype casts around a matmul (DJL's {@code toType}
 * runs under a no-grad guard, and DJL cannot hold bf16 arrays at all, so bf16/fp16 tensors only ever exist inside these
 * ops), and {@code scaled_dot_product_attention}, whose flash / memory-efficient kernels do not keep the
 * {@code seq x seq} probabilities. Autograd records through them like through any libtorch op. Every op takes and
 * returns arrays of the model's parameter dtype; the matmuls run in the compute dtype.
 */
public final class TorchOps implements AutoCloseable {
  /** The operations. */
  public enum Op {
    /** {@code y = x Wᵀ}. */
    LINEAR,
    /** {@code y = x Wᵀ + s · (xd Aᵀ) Bᵀ} (xd = x after LoRA dropout). */
    LORA_LINEAR,
    /** {@code y = x Wᵀ + s · (x Aᵀ) Bᵀ}: without dropout, one low-precision copy of x serves both products. */
    LORA_LINEAR_SHARED,
    /** Attention with an additive float mask {@code [B, 1, Tq, Tk]}. */
    SDPA_MASK,
    /** Causal attention without a mask tensor (flash kernels apply). */
    SDPA_CAUSAL
  }

  /** c10 ScalarType codes (stable in libtorch's serialized TorchScript). */
  private static final int HALF = 5;
  private static final int FLOAT = 6;
  private static final int DOUBLE = 7;
  private static final int BFLOAT16 = 15;

  private final PtNDManager manager;
  private final int compute;
  private final int output;
  private final String computeName;
  private final Map<Op, PtSymbolBlock> modules = new EnumMap<>(Op.class);
  private boolean closed;

  /**
   * @param manager where the modules live (their device is irrelevant: they hold no tensors)
   * @param parameterDtype FLOAT32 or FLOAT64, the dtype of every input and output
   * @param computeName "fp32", "bf16" or "fp16" (fp32 with FLOAT64 parameters means float64)
   */
  public TorchOps(NDManager manager, DataType parameterDtype, String computeName) {
    this.manager = (PtNDManager) manager;
    this.output = parameterDtype == DataType.FLOAT64 ? DOUBLE : FLOAT;
    this.compute = switch (computeName) {
      case "bf16" -> BFLOAT16;
      case "fp16" -> HALF;
      case "fp32" -> output;
      default -> throw new IllegalArgumentException("compute precision " + computeName);
    };
    this.computeName = computeName;
  }

  /** The compute dtype's name. */
  public String computeName() {
    return computeName;
  }

  /** {@code y = x Wᵀ} in the compute dtype. */
  public NDArray linear(NDArray x, NDArray w) {
    return run(Op.LINEAR, x, w);
  }

  /** {@code x Wᵀ + s (xd Aᵀ) Bᵀ} in the compute dtype; {@code s} is a one-element array. */
  public NDArray loraLinear(NDArray x, NDArray xd, NDArray w, NDArray a, NDArray b, NDArray s) {
    return run(Op.LORA_LINEAR, x, xd, w, a, b, s);
  }

  /** {@code x Wᵀ + s (x Aᵀ) Bᵀ} in the compute dtype. */
  public NDArray loraLinear(NDArray x, NDArray w, NDArray a, NDArray b, NDArray s) {
    return run(Op.LORA_LINEAR_SHARED, x, w, a, b, s);
  }

  /** {@code softmax(q kᵀ / sqrt(d) + mask) v} for {@code [B, H, T, d]} inputs. */
  public NDArray attention(NDArray q, NDArray k, NDArray v, NDArray mask) {
    return mask == null ? run(Op.SDPA_CAUSAL, q, k, v) : run(Op.SDPA_MASK, q, k, v, mask);
  }

  private NDArray run(Op op, NDArray... in) {
    PtSymbolBlock m = module(op);
    // The profiling graph executor specialises each op on shapes and on whether inputs require grad, and re-profiles
    // when they change (every checkpointed layer alternates between the two); for a cast and a matmul there is nothing
    // to optimise, so run the graph as is. The flag is per thread; DJL's own modules set it on every call.
    JniUtils.setGraphExecutorOptimize(false);
    try {
      return IValueUtils.forward(m, new NDList(in), true).singletonOrThrow();
    } finally {
      JniUtils.setGraphExecutorOptimize(true);
    }
  }

  private synchronized PtSymbolBlock module(Op op) {
    if (closed) {
      throw new IllegalStateException("TorchOps closed");
    }
    return modules.computeIfAbsent(op, o -> {
      try {
        return JniUtils.loadModule(manager, new ByteArrayInputStream(archive(o)), true, false);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot load TorchScript op " + o, e);
      }
    });
  }

  /** The TorchScript source of {@code op} (the {@code code/__torch__.py} of its archive). */
  String source(Op op) {
    String c = Integer.toString(compute);
    String o = Integer.toString(output);
    String header = "class Op(Module):\n  __parameters__ = []\n  __buffers__ = []\n  training : bool\n"
        + "  def forward(self: __torch__.Op,\n";
    return switch (op) {
      case LINEAR -> header + "    x: Tensor,\n    w: Tensor) -> Tensor:\n"
          + "    _0 = torch.matmul(torch.to(x, " + c + "), torch.t(torch.to(w, " + c + ")))\n"
          + "    return torch.to(_0, " + o + ")\n";
      case LORA_LINEAR -> header + "    x: Tensor,\n    xd: Tensor,\n    w: Tensor,\n    a: Tensor,\n    b: Tensor,\n"
          + "    s: Tensor) -> Tensor:\n"
          + "    _0 = torch.matmul(torch.to(x, " + c + "), torch.t(torch.to(w, " + c + ")))\n"
          + "    _1 = torch.matmul(torch.to(xd, " + c + "), torch.t(torch.to(a, " + c + ")))\n"
          + "    _2 = torch.matmul(_1, torch.t(torch.to(b, " + c + ")))\n"
          + "    return torch.add(torch.to(_0, " + o + "), torch.mul(torch.to(_2, " + o + "), s))\n";
      case LORA_LINEAR_SHARED -> header + "    x: Tensor,\n    w: Tensor,\n    a: Tensor,\n    b: Tensor,\n"
          + "    s: Tensor) -> Tensor:\n"
          + "    _x = torch.to(x, " + c + ")\n"
          + "    _0 = torch.matmul(_x, torch.t(torch.to(w, " + c + ")))\n"
          + "    _1 = torch.matmul(_x, torch.t(torch.to(a, " + c + ")))\n"
          + "    _2 = torch.matmul(_1, torch.t(torch.to(b, " + c + ")))\n"
          + "    return torch.add(torch.to(_0, " + o + "), torch.mul(torch.to(_2, " + o + "), s))\n";
      case SDPA_MASK -> header + "    q: Tensor,\n    k: Tensor,\n    v: Tensor,\n    mask: Tensor) -> Tensor:\n"
          + "    _0 = torch.scaled_dot_product_attention(torch.to(q, " + c + "), torch.to(k, " + c + "), torch.to(v, "
          + c + "), torch.to(mask, " + c + "), 0., False)\n"
          + "    return torch.to(_0, " + o + ")\n";
      case SDPA_CAUSAL -> header + "    q: Tensor,\n    k: Tensor,\n    v: Tensor) -> Tensor:\n"
          + "    _0 = torch.scaled_dot_product_attention(torch.to(q, " + c + "), torch.to(k, " + c + "), torch.to(v, "
          + c + "), None, 0., True)\n"
          + "    return torch.to(_0, " + o + ")\n";
    };
  }

  /**
   * A TorchScript archive as {@code torch.jit.save} lays it out: {@code version}, an empty constants table, the pickled
   * module object (class {@code __torch__.Op} with its one attribute {@code training}) and the class source.
   */
  byte[] archive(Op op) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(bytes)) {
      stored(z, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
      // PROTO 2, EMPTY_TUPLE, STOP
      stored(z, "archive/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
      ByteArrayOutputStream p = new ByteArrayOutputStream();
      p.write(0x80);
      p.write(2);
      // GLOBAL '__torch__' 'Op', EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, MARK, 'training', True, SETITEMS, BUILD, STOP
      p.writeBytes("c__torch__\nOp\n".getBytes(StandardCharsets.US_ASCII));
      p.write(')');
      p.write(0x81);
      p.write('}');
      p.write('(');
      byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
      p.write('X');
      p.writeBytes(new byte[] {(byte) key.length, 0, 0, 0});
      p.writeBytes(key);
      p.write(0x88);
      p.write('u');
      p.write('b');
      p.write('.');
      stored(z, "archive/data.pkl", p.toByteArray());
      stored(z, "archive/code/__torch__.py", source(op).getBytes(StandardCharsets.UTF_8));
    }
    return bytes.toByteArray();
  }

  private static void stored(ZipOutputStream z, String name, byte[] data) throws IOException {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(data.length);
    CRC32 crc = new CRC32();
    crc.update(data);
    e.setCrc(crc.getValue());
    z.putNextEntry(e);
    z.write(data);
    z.closeEntry();
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      modules.values().forEach(PtSymbolBlock::close);
      modules.clear();
    }
  }
}

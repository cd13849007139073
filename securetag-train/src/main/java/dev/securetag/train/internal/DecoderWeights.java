package dev.securetag.train.internal;

import ai.djl.Device;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.securetag.core.HfConfig;
import dev.securetag.train.AttentionKernel;
import dev.securetag.train.KernelBackend;
import dev.securetag.train.LoraConfig;
import dev.securetag.train.ModelOptions;
import dev.securetag.train.Precision;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a loaded decoder holds: its configuration, the DJL manager and device, the resolved precision and attention
 * kernel, the kernel backend, the tokenizer, the embedding / norm / head arrays, the decoder layers with their
 * linears (and LoRA adapters once attached). Built by {@link DecoderLoader}; read by {@link DecoderForward},
 * {@link DecoderGeneration}, {@link PeftAdapters} and {@link MergedExport}. Owns the native memory: close it.
 */
public final class DecoderWeights implements AutoCloseable {

  /** One decoder layer: norms, attention projections and either a dense MLP or a router with experts. */
  public static final class Layer {
    NDArray inputNorm;
    NDArray postNorm;
    Linear q;
    Linear k;
    Linear v;
    Linear o;
    Linear gate;
    Linear up;
    Linear down;
    Linear router;
    final List<Linear[]> experts = new ArrayList<>();

    /** Every linear of the layer in model order (attention, then the MLP or router and experts). */
    public List<Linear> linears() {
      List<Linear> out = new ArrayList<>(List.of(q, k, v, o));
      if (router != null) {
        out.add(router);
        for (Linear[] e : experts) {
          out.addAll(Arrays.asList(e));
        }
      } else {
        out.addAll(List.of(gate, up, down));
      }
      return out;
    }

    public NDArray inputNorm() {
      return inputNorm;
    }

    public NDArray postNorm() {
      return postNorm;
    }
  }

  private final HfConfig config;
  private final ModelOptions options;
  private final Path source;
  private final NDManager manager;
  private final DataType dtype;
  private final Device device;
  private final Precision precision;
  private final AttentionKernel attention;
  private final TorchOps ops;
  private final float masked;
  private final KernelBackend kernels;
  private final String kernelReason;
  private final HuggingFaceTokenizer tokenizer;
  private final NDArray embed;
  private final NDArray finalNorm;
  private final NDArray lmHead;
  private final List<Layer> layers;
  private final float[] invFreq;
  private final LongAdder dequantNanos = new LongAdder();
  private LoraConfig lora;
  private volatile boolean closed;

  DecoderWeights(HfConfig config, ModelOptions options, Path source, NDManager manager, Precision precision,
      KernelBackend kernels, String kernelReason, HuggingFaceTokenizer tokenizer, NDArray embed, NDArray finalNorm,
      NDArray lmHead, List<Layer> layers, float[] invFreq) {
    this.config = config;
    this.options = options;
    this.source = source;
    this.manager = manager;
    this.dtype = options.float64() ? DataType.FLOAT64 : DataType.FLOAT32;
    this.device = manager.getDevice();
    this.precision = precision;
    this.attention = options.attention();
    this.ops = new TorchOps(manager, dtype, switch (precision) {
      case BF16 -> "bf16";
      case FP16 -> "fp16";
      default -> "fp32";
    });
    // float16 turns -1e9 into -inf, and a fully masked (padding) row would then softmax to NaN.
    this.masked = precision == Precision.FP16 ? -3.0e4f : -1e9f;
    this.kernels = kernels;
    this.kernelReason = kernelReason;
    this.tokenizer = tokenizer;
    this.embed = embed;
    this.finalNorm = finalNorm;
    this.lmHead = lmHead;
    this.layers = layers;
    this.invFreq = invFreq;
    for (Linear l : allLinears()) {
      l.timeDequantInto(dequantNanos);
    }
  }

  public HfConfig config() {
    return config;
  }

  public ModelOptions options() {
    return options;
  }

  /** The checkpoint directory the weights came from. */
  public Path source() {
    return source;
  }

  public NDManager manager() {
    return manager;
  }

  /** The parameter dtype: float32, or float64 for numerical checks. */
  public DataType dtype() {
    return dtype;
  }

  public Device device() {
    return device;
  }

  /** Matmul precision as resolved for the device (never AUTO). */
  public Precision precision() {
    return precision;
  }

  public AttentionKernel attention() {
    return attention;
  }

  public TorchOps ops() {
    return ops;
  }

  /** The additive mask value for excluded keys in the compute precision. */
  public float masked() {
    return masked;
  }

  public KernelBackend kernels() {
    return kernels;
  }

  /** Why the kernel backend was chosen. */
  public String kernelReason() {
    return kernelReason;
  }

  public Optional<HuggingFaceTokenizer> tokenizer() {
    return Optional.ofNullable(tokenizer);
  }

  public NDArray embed() {
    return embed;
  }

  public NDArray finalNorm() {
    return finalNorm;
  }

  public NDArray lmHead() {
    return lmHead;
  }

  public List<Layer> layers() {
    return layers;
  }

  /** RoPE inverse frequencies (scaling applied), one per pair of head dimensions. */
  public float[] invFreq() {
    return invFreq;
  }

  /** Nanoseconds spent dequantizing NF4 base weights since load. */
  public long dequantNanos() {
    return dequantNanos.sum();
  }

  /** The LoRA settings once adapters are attached. */
  public Optional<LoraConfig> lora() {
    return Optional.ofNullable(lora);
  }

  void lora(LoraConfig cfg) {
    this.lora = cfg;
  }

  /** Every linear of every layer, in model order. */
  public List<Linear> allLinears() {
    List<Linear> out = new ArrayList<>();
    for (Layer l : layers) {
      out.addAll(l.linears());
    }
    return out;
  }

  /** The trainable arrays: A and B of every adapter, in model order. */
  public List<NDArray> loraParameters() {
    List<NDArray> out = new ArrayList<>();
    for (Linear l : allLinears()) {
      if (l.hasLora()) {
        out.add(l.loraA());
        out.add(l.loraB());
      }
    }
    return out;
  }

  /** Throws when closed. */
  public void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("LlamaModel is closed");
    }
  }

  public boolean isClosed() {
    return closed;
  }

  /** Frees the arrays, the TorchScript ops, the kernel backend and the tokenizer; idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      ops.close();
      manager.close();
      kernels.close();
      if (tokenizer != null) {
        tokenizer.close();
      }
    }
  }
}

package dev.securetag.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
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
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.AtomicFiles;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.Json;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.SafetensorsWriter;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.train.internal.DeviceNf4;
import dev.securetag.train.internal.Linear;
import dev.securetag.train.internal.Sampler;
import dev.securetag.train.internal.Tensors;
import dev.securetag.train.internal.TorchOps;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Llama / Mistral / Mixtral decoder held in DJL (PyTorch engine): loaded from a Hugging Face checkpoint tensor by
 * tensor, base linear weights optionally in NF4, optional LoRA adapters, full-sequence forward for training and
 * KV-cached incremental decoding for generation. Holds native memory: close it.
 *
 * <pre>{@code
 * try (LlamaModel m = LlamaModel.load(dir, ModelOptions.fullPrecision())) {
 *   String text = m.generate("### Instruction:\nHi\n\n### Response:\n", GenerationConfig.greedy(32));
 * }
 * }</pre>
 */
public final class LlamaModel implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LlamaModel.class);
  /** Rows of the loss head per chunk: the logits of one chunk stay near 2^24 values. */
  private static final long HEAD_CHUNK_VALUES = 1L << 24;

  private final LlamaConfig config;
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
  private LoraConfig lora;
  private volatile boolean closed;

  /** One decoder layer. */
  static final class Layer {
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
    List<Linear[]> experts = new ArrayList<>();

    List<Linear> linears() {
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
  }

  private LlamaModel(LlamaConfig config, ModelOptions options, Path source, NDManager manager, KernelBackends.Selection kb,
      HuggingFaceTokenizer tokenizer, NDArray embed, NDArray finalNorm, NDArray lmHead, List<Layer> layers) {
    this.config = config;
    this.options = options;
    this.source = source;
    this.manager = manager;
    this.dtype = options.float64() ? DataType.FLOAT64 : DataType.FLOAT32;
    this.device = manager.getDevice();
    this.precision = resolvePrecision(options, device);
    this.attention = options.attention();
    this.ops = new TorchOps(manager, dtype, switch (precision) {
      case BF16 -> "bf16";
      case FP16 -> "fp16";
      default -> "fp32";
    });
    // float16 turns -1e9 into -inf, and a fully masked (padding) row would then softmax to NaN.
    this.masked = precision == Precision.FP16 ? -3.0e4f : -1e9f;
    this.kernels = kb.backend();
    this.kernelReason = kb.reason();
    this.tokenizer = tokenizer;
    this.embed = embed;
    this.finalNorm = finalNorm;
    this.lmHead = lmHead;
    this.layers = layers;
    this.invFreq = ropeInverseFrequencies(config);
    for (Linear l : allLinears()) {
      l.timeDequantInto(dequantNanos);
    }
  }

  private final java.util.concurrent.atomic.LongAdder dequantNanos = new java.util.concurrent.atomic.LongAdder();

  /** Nanoseconds spent dequantizing NF4 base weights since load. */
  long dequantNanos() {
    return dequantNanos.sum();
  }

  /** Loads {@code dir} with the default options (NF4 double-quantized base, float32 compute). */
  public static LlamaModel load(Path dir) {
    return load(dir, ModelOptions.builder().build());
  }

  /**
   * Loads a Hugging Face checkpoint directory (config.json, model.safetensors or a sharded index, optional
   * tokenizer.json). Tensors are read and converted one at a time, so the full-precision model is never all in
   * memory when quantizing.
   *
   * @throws InvalidInputException naming the field or tensor when the config or a tensor is missing or inconsistent
   * @throws UnsupportedFormatException for unknown architectures or unsupported dtypes
   */
  public static LlamaModel load(Path dir, ModelOptions options) {
    if (options.float64() && options.precision() != Precision.AUTO && options.precision() != Precision.FP32) {
      throw new IllegalArgumentException("float64 compute excludes precision " + options.precision());
    }
    LlamaConfig cfg = LlamaConfig.load(dir);
    Device device = resolveDevice(options.device());
    KernelBackends.Selection kb = KernelBackends.select(options.kernels(), options.kernelThreads());
    alignTorchThreadsWithOmpLimit();
    NDManager manager = NDManager.newBaseManager(device);
    HuggingFaceTokenizer tok = null;
    boolean ok = false;
    try (SafetensorsReader st = SafetensorsReader.open(dir)) {
      DataType dt = options.float64() ? DataType.FLOAT64 : DataType.FLOAT32;
      Loader l = new Loader(st, dir, manager, dt, options.quantization(), kb.backend());
      int h = cfg.hiddenSize();
      NDArray embed = l.dense("model.embed_tokens.weight", cfg.vocabSize(), h);
      List<Layer> layers = new ArrayList<>();
      int qd = cfg.numAttentionHeads() * cfg.headDim();
      int kvd = cfg.numKeyValueHeads() * cfg.headDim();
      for (int i = 0; i < cfg.numHiddenLayers(); i++) {
        String p = "model.layers." + i + ".";
        Layer layer = new Layer();
        layer.inputNorm = l.dense(p + "input_layernorm.weight", h);
        layer.postNorm = l.dense(p + "post_attention_layernorm.weight", h);
        layer.q = l.linear(p + "self_attn.q_proj", h, qd, true);
        layer.k = l.linear(p + "self_attn.k_proj", h, kvd, true);
        layer.v = l.linear(p + "self_attn.v_proj", h, kvd, true);
        layer.o = l.linear(p + "self_attn.o_proj", qd, h, true);
        if (cfg.isMoe()) {
          String mp = p + "block_sparse_moe.";
          layer.router = l.linear(mp + "gate", h, cfg.numLocalExperts(), false);
          for (int e = 0; e < cfg.numLocalExperts(); e++) {
            String ep = mp + "experts." + e + ".";
            layer.experts.add(new Linear[] {l.linear(ep + "w1", h, cfg.intermediateSize(), true),
                l.linear(ep + "w3", h, cfg.intermediateSize(), true), l.linear(ep + "w2", cfg.intermediateSize(), h, true)});
          }
        } else {
          layer.gate = l.linear(p + "mlp.gate_proj", h, cfg.intermediateSize(), true);
          layer.up = l.linear(p + "mlp.up_proj", h, cfg.intermediateSize(), true);
          layer.down = l.linear(p + "mlp.down_proj", cfg.intermediateSize(), h, true);
        }
        layers.add(layer);
      }
      NDArray norm = l.dense("model.norm.weight", h);
      NDArray head;
      if (cfg.tieWordEmbeddings()) {
        head = embed;
      } else {
        head = l.dense("lm_head.weight", cfg.vocabSize(), h);
      }
      Path tj = dir.resolve("tokenizer.json");
      if (Files.exists(tj)) {
        try {
          tok = HuggingFaceTokenizer.builder().optTokenizerPath(tj).optAddSpecialTokens(false).optTruncation(false)
              .optPadding(false).build();
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read " + tj, e);
        }
      }
      LlamaModel m = new LlamaModel(cfg, options, dir, manager, kb, tok, embed, norm, head, layers);
      ok = true;
      LOG.info("loaded {} ({} layers, {} params) from {} with {} base weights on {}, {} matmuls, {} attention, "
          + "merge kernels {}", cfg.architecture(), cfg.numHiddenLayers(), cfg.parameterCount(), dir,
          options.quantization(), m.deviceName(), m.precision(), m.attention(), kb.backend().name());
      return m;
    } finally {
      if (!ok) {
        manager.close();
        kb.backend().close();
        if (tok != null) {
          tok.close();
        }
      }
    }
  }

  /**
   * Why CUDA cannot be used for the model, or empty when DJL's PyTorch engine sees a GPU. The usual reason on a GPU
   * machine is a CPU-only libtorch: Maven Central has no CUDA build of PyTorch 2.7.1, see the README.
   */
  public static Optional<String> cudaUnavailableReason() {
    Engine engine = Engine.getInstance();
    int gpus = engine.getGpuCount();
    if (gpus > 0) {
      return Optional.empty();
    }
    String lib = System.getProperty("PYTORCH_LIBRARY_PATH", System.getenv("PYTORCH_LIBRARY_PATH"));
    return Optional.of("DJL's PyTorch engine (PyTorch " + engine.getVersion() + ") sees no CUDA device; "
        + (lib == null ? "PYTORCH_LIBRARY_PATH is not set, so the CPU libtorch from pytorch-native-cpu is loaded"
            : "PYTORCH_LIBRARY_PATH=" + lib + " (PYTORCH_FLAVOR=" + System.getenv("PYTORCH_FLAVOR") + ")")
        + "; see securetag-train/README.md, 'CUDA'");
  }

  private static boolean threadsAligned;

  /**
   * libtorch's intra-op thread count above {@code OMP_THREAD_LIMIT} is not just wasted: its bf16 CPU GEMM then returns
   * garbage for matrices of 24+ rows (observed with DJL's PyTorch 2.7.1 CPU build on AVX512-BF16 hardware, e.g. DJL's
   * default of 2 threads under {@code OMP_THREAD_LIMIT=1}). Lower it to the limit once per process.
   */
  private static synchronized void alignTorchThreadsWithOmpLimit() {
    if (threadsAligned) {
      return;
    }
    threadsAligned = true;
    String limit = System.getenv("OMP_THREAD_LIMIT");
    if (limit == null || limit.isBlank()) {
      return;
    }
    try {
      int max = Integer.parseInt(limit.trim());
      Engine.getInstance();
      int now = JniUtils.getNumThreads();
      if (max > 0 && now > max) {
        JniUtils.setNumThreads(max);
        LOG.info("libtorch intra-op threads lowered from {} to OMP_THREAD_LIMIT={}", now, max);
      }
    } catch (NumberFormatException e) {
      LOG.warn("ignoring OMP_THREAD_LIMIT='{}': not a number", limit);
    }
  }

  static Device resolveDevice(ComputeDevice pref) {
    if (pref == ComputeDevice.CPU) {
      return Device.cpu();
    }
    Optional<String> why = cudaUnavailableReason();
    if (why.isEmpty()) {
      return Device.gpu(0);
    }
    if (pref == ComputeDevice.CUDA) {
      throw new IllegalStateException("CUDA device requested but unavailable: " + why.get());
    }
    LOG.info("device: CPU ({})", why.get());
    return Device.cpu();
  }

  static Precision resolvePrecision(ModelOptions o, Device d) {
    if (o.float64()) {
      return Precision.FP32;
    }
    if (o.precision() == Precision.AUTO) {
      return d.isGpu() ? Precision.BF16 : Precision.FP32;
    }
    return o.precision();
  }

  /** Reads and validates tensors one by one. */
  private static final class Loader {
    final SafetensorsReader st;
    final Path dir;
    final NDManager manager;
    final DataType dt;
    final Quantization quant;
    final DeviceNf4.Tables tables;
    final KernelBackend kernels;
    final boolean torchDequant;

    Loader(SafetensorsReader st, Path dir, NDManager manager, DataType dt, Quantization quant, KernelBackend kernels) {
      this.st = st;
      this.dir = dir;
      this.manager = manager;
      this.dt = dt;
      this.quant = quant;
      this.kernels = kernels;
      // On CUDA the packed weights live on the device; on the CPU the Java kernel is the faster expander (see
      // DeviceNf4). -Dsecuretag.train.nf4Dequant=torch forces the device path on the CPU (tests use it).
      this.torchDequant = manager.getDevice().isGpu()
          || "torch".equalsIgnoreCase(System.getProperty("securetag.train.nf4Dequant", ""));
      this.tables = torchDequant ? new DeviceNf4.Tables(manager) : null;
    }

    DeviceNf4 nf4(Nf4Tensor t) {
      return torchDequant ? DeviceNf4.of(t, manager, tables) : DeviceNf4.onHost(t, manager, kernels);
    }

    float[] floats(String name, long... shape) {
      SafetensorsReader.TensorInfo t = st.tensor(name).orElseThrow(
          () -> new InvalidInputException(dir + ": " + name, "missing tensor " + name));
      switch (t.dtype()) {
        case F32, F16, BF16 -> { }
        case U8 -> throw new UnsupportedFormatException(dir + ": " + name,
            "tensor " + name + " is U8 (a pre-quantized bitsandbytes checkpoint); load the F16/BF16/F32 checkpoint, "
                + "it is quantized on load");
        default -> throw new UnsupportedFormatException(dir + ": " + name,
            "tensor " + name + " has dtype " + t.dtype() + "; expected F32, F16 or BF16");
      }
      if (!Arrays.equals(t.shape(), shape)) {
        throw new InvalidInputException(dir + ": " + name, "tensor " + name + " has shape " + Arrays.toString(t.shape())
            + ", expected " + Arrays.toString(shape) + " from config.json");
      }
      return st.readFloats(name);
    }

    Nf4Tensor bnbNf4(String module, int out, int in) {
      return readBnbNf4(st, dir, module, out, in);
    }

    NDArray dense(String name, long... shape) {
      return Tensors.of(manager, floats(name, shape), new Shape(shape), dt);
    }

    Linear linear(String module, int in, int out, boolean quantizable) {
      Linear lin = new Linear(module, in, out);
      if (st.tensor(module + ".weight.quant_state.bitsandbytes__nf4").isPresent()) {
        Nf4Tensor q = bnbNf4(module, out, in);
        if (quantizable && quant != Quantization.NONE) {
          lin.setNf4(nf4(q));
        } else {
          lin.setDense(Tensors.of(manager, q.dequantize(), new Shape(out, in), dt));
        }
        return lin;
      }
      if (st.tensor(module + ".weight.quant_state.bitsandbytes__fp4").isPresent()) {
        throw new UnsupportedFormatException(dir + ": " + module + ".weight.quant_state.bitsandbytes__fp4",
            "bitsandbytes FP4 weights are not supported (NF4 only)");
      }
      float[] w = floats(module + ".weight", out, in);
      if (quantizable && quant != Quantization.NONE) {
        lin.setNf4(nf4(Nf4Tensor.quantize(w, new long[] {out, in}, quant == Quantization.NF4_DOUBLE_QUANT)));
      } else {
        lin.setDense(Tensors.of(manager, w, new Shape(out, in), dt));
      }
      return lin;
    }
  }

  /**
   * Reads a bitsandbytes-serialized NF4 linear ({@code *-bnb-4bit} checkpoints): packed U8 codes, F32 or (double
   * quantization) U8 absmax with nested absmax and the JSON {@code nested_offset}; the stored code tables must be
   * bitsandbytes' own.
   */
  private static Nf4Tensor readBnbNf4(SafetensorsReader st, Path dir, String module, int out, int in) {
    String w = module + ".weight";
    String loc = dir + ": " + w + ".quant_state.bitsandbytes__nf4";
    JsonNode qs = Json.readTree(new String(bytes(st, w + ".quant_state.bitsandbytes__nf4"), StandardCharsets.UTF_8), loc);
    if (!"nf4".equals(qs.path("quant_type").asText())) {
      throw new UnsupportedFormatException(loc, "quant_type " + qs.path("quant_type").asText() + " is not nf4");
    }
    JsonNode shape = qs.get("shape");
    if (shape == null || shape.size() != 2 || shape.get(0).asInt() != out || shape.get(1).asInt() != in) {
      throw new InvalidInputException(loc, "quant_state shape " + shape + " does not match [" + out + ", " + in
          + "] from config.json");
    }
    int blocksize = qs.path("blocksize").asInt(64);
    if (st.tensor(w + ".quant_map").isPresent()) {
      float[] map = st.readFloats(w + ".quant_map");
      if (!java.util.Arrays.equals(map, dev.securetag.train.internal.BnbTables.NF4)) {
        throw new UnsupportedFormatException(dir + ": " + w + ".quant_map", "quant_map differs from the NF4 table");
      }
    }
    byte[] packed = bytes(st, w);
    SafetensorsReader.TensorInfo absmax = st.tensor(w + ".absmax").orElseThrow(
        () -> new InvalidInputException(dir + ": " + w + ".absmax", "missing tensor " + w + ".absmax"));
    long[] shp = {out, in};
    try {
      if (absmax.dtype() == SafetensorsReader.DType.F32) {
        return Nf4Tensor.of(shp, blocksize, packed, st.readFloats(w + ".absmax"));
      }
      if (st.tensor(w + ".nested_quant_map").isPresent()) {
        float[] map = st.readFloats(w + ".nested_quant_map");
        if (!java.util.Arrays.equals(map, dev.securetag.train.internal.BnbTables.DYNAMIC)) {
          throw new UnsupportedFormatException(dir + ": " + w + ".nested_quant_map",
              "nested_quant_map differs from bitsandbytes' dynamic map");
        }
      }
      if (!qs.has("nested_offset")) {
        throw new InvalidInputException(loc, "double-quantized weight lacks nested_offset");
      }
      return Nf4Tensor.ofDoubleQuant(shp, blocksize, packed, bytes(st, w + ".absmax"),
          st.readFloats(w + ".nested_absmax"), (float) qs.get("nested_offset").asDouble());
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(dir + ": " + w, "inconsistent NF4 tensors: " + e.getMessage(), e);
    }
  }

  private static byte[] bytes(SafetensorsReader st, String name) {
    java.nio.ByteBuffer b = st.data(name);
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  private static float[] ropeInverseFrequencies(LlamaConfig c) {
    int half = c.headDim() / 2;
    float[] inv = new float[half];
    for (int j = 0; j < half; j++) {
      double f = 1.0 / Math.pow(c.ropeTheta(), (2.0 * j) / c.headDim());
      if (c.ropeScaling().isPresent()) {
        LlamaConfig.RopeScaling s = c.ropeScaling().get();
        if (s.type().equals("linear")) {
          f /= s.factor();
        } else {
          double low = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
          double high = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
          double wavelen = 2 * Math.PI / f;
          if (wavelen > low) {
            f /= s.factor();
          } else if (wavelen >= high) {
            double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                / (s.highFreqFactor() - s.lowFreqFactor());
            f = (1 - smooth) * f / s.factor() + smooth * f;
          }
        }
      }
      inv[j] = (float) f;
    }
    return inv;
  }

  /** The model's configuration. */
  public LlamaConfig config() {
    return config;
  }

  /** The options it was loaded with. */
  public ModelOptions options() {
    return options;
  }

  /** The checkpoint directory it was loaded from. */
  public Path source() {
    return source;
  }

  /** The device the model lives on, e.g. {@code cpu} or {@code cuda:0}. */
  public String deviceName() {
    return device.isGpu() ? "cuda:" + device.getDeviceId() : "cpu";
  }

  /** Precision of the matmuls as resolved for the device (never AUTO). */
  public Precision precision() {
    return precision;
  }

  /** The attention implementation. */
  public AttentionKernel attention() {
    return attention;
  }

  /** The kernel backend in use and why it was chosen. */
  public String kernelInfo() {
    return kernels.name() + " (" + kernelReason + ")";
  }

  KernelBackend kernels() {
    return kernels;
  }

  NDManager manager() {
    return manager;
  }

  List<Layer> layers() {
    return layers;
  }

  /** The tokenizer from the checkpoint's tokenizer.json. */
  public Optional<HuggingFaceTokenizer> tokenizer() {
    return Optional.ofNullable(tokenizer);
  }

  /** Token ids of {@code text} without special tokens. */
  public int[] encode(String text) {
    ensureOpen();
    long[] ids = requireTokenizer().encode(text, false, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }

  /** Text of {@code ids}, skipping special tokens. */
  public String decode(int[] ids) {
    ensureOpen();
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return requireTokenizer().decode(l, true);
  }

  private HuggingFaceTokenizer requireTokenizer() {
    if (tokenizer == null) {
      throw new IllegalStateException("checkpoint " + source + " has no tokenizer.json");
    }
    return tokenizer;
  }

  // ------------------------------------------------------------------------------------------------ LoRA

  /** Adds fresh PEFT-initialised adapters (A Kaiming-uniform, B zero) to every module {@code cfg} targets. */
  public void addLora(LoraConfig cfg, long seed) {
    ensureOpen();
    if (lora != null) {
      throw new IllegalStateException("model already has LoRA adapters");
    }
    SplittableRandom rng = new SplittableRandom(seed);
    int count = 0;
    for (Linear lin : allLinears()) {
      if (!cfg.targets(lin.name())) {
        continue;
      }
      float bound = (float) (1.0 / Math.sqrt(lin.in()));
      float[] a = new float[cfg.r() * lin.in()];
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
      }
      attach(lin, cfg, a, new float[lin.out() * cfg.r()]);
      count++;
    }
    if (count == 0) {
      throw new IllegalArgumentException("LoRA target_modules " + cfg.targetModules() + " match no module of this "
          + config.architecture() + " model");
    }
    lora = cfg;
  }

  private void attach(Linear lin, LoraConfig cfg, float[] a, float[] b) {
    NDArray na = param(a, new Shape(cfg.r(), lin.in()));
    NDArray nb = param(b, new Shape(lin.out(), cfg.r()));
    lin.attachLora(na, nb, cfg.scaling(), cfg.dropout());
  }

  private NDArray param(float[] data, Shape shape) {
    NDArray a = Tensors.of(manager, data, shape, dtype);
    a.setRequiresGradient(true);
    return a;
  }

  /** The LoRA settings, when adapters are attached. */
  public Optional<LoraConfig> lora() {
    return Optional.ofNullable(lora);
  }

  /** Module paths that carry adapters, in model order. */
  public List<String> loraModules() {
    List<String> out = new ArrayList<>();
    for (Linear l : allLinears()) {
      if (l.hasLora()) {
        out.add(l.name());
      }
    }
    return out;
  }

  /** Number of trainable adapter parameters. */
  public long loraParameterCount() {
    long n = 0;
    for (Linear l : allLinears()) {
      if (l.hasLora()) {
        n += l.loraA().size() + l.loraB().size();
      }
    }
    return n;
  }

  /** A copy of the adapter A matrix ({@code [r, in]}, row-major) of {@code module}. */
  public float[] loraA(String module) {
    return adapterOf(module).loraA().toType(DataType.FLOAT32, false).toFloatArray();
  }

  /** A copy of the adapter B matrix ({@code [out, r]}, row-major) of {@code module}. */
  public float[] loraB(String module) {
    return adapterOf(module).loraB().toType(DataType.FLOAT32, false).toFloatArray();
  }

  /** Overwrites the adapter matrices of {@code module}. */
  public void setLora(String module, float[] a, float[] b) {
    Linear l = adapterOf(module);
    if (a.length != l.loraA().size() || b.length != l.loraB().size()) {
      throw new IllegalArgumentException("adapter of " + module + " needs A " + l.loraA().getShape() + " and B "
          + l.loraB().getShape());
    }
    l.loraA().set(toDtype(a));
    l.loraB().set(toDtype(b));
  }

  private java.nio.Buffer toDtype(float[] a) {
    if (dtype == DataType.FLOAT32) {
      return java.nio.FloatBuffer.wrap(a);
    }
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return java.nio.DoubleBuffer.wrap(d);
  }

  private Linear adapterOf(String module) {
    ensureOpen();
    for (Linear l : allLinears()) {
      if (l.name().equals(module) && l.hasLora()) {
        return l;
      }
    }
    throw new IllegalArgumentException("no LoRA adapter on module " + module);
  }

  List<Linear> allLinears() {
    List<Linear> out = new ArrayList<>();
    for (Layer l : layers) {
      out.addAll(l.linears());
    }
    return out;
  }

  List<NDArray> loraParameters() {
    List<NDArray> out = new ArrayList<>();
    for (Linear l : allLinears()) {
      if (l.hasLora()) {
        out.add(l.loraA());
        out.add(l.loraB());
      }
    }
    return out;
  }

  /**
   * Writes a PEFT adapter directory: {@code adapter_config.json} and {@code adapter_model.safetensors} with keys
   * {@code base_model.model.<module>.lora_A.weight} ([r, in]) and {@code .lora_B.weight} ([out, r]), F32.
   */
  public void saveAdapter(Path dir) {
    ensureOpen();
    if (lora == null) {
      throw new IllegalStateException("model has no LoRA adapters to save");
    }
    SafetensorsWriter w = new SafetensorsWriter();
    List<String> modules = new ArrayList<>();
    for (Linear l : allLinears()) {
      if (l.hasLora()) {
        String k = "base_model.model." + l.name();
        w.addF32(k + ".lora_A.weight", new long[] {lora.r(), l.in()}, loraA(l.name()));
        w.addF32(k + ".lora_B.weight", new long[] {l.out(), lora.r()}, loraB(l.name()));
        String leaf = l.name().substring(l.name().lastIndexOf('.') + 1);
        if (!modules.contains(leaf)) {
          modules.add(leaf);
        }
      }
    }
    w.write(dir.resolve("adapter_model.safetensors"));
    ObjectNode c = Json.object();
    c.put("peft_type", "LORA");
    c.put("task_type", "CAUSAL_LM");
    c.put("base_model_name_or_path", source.toAbsolutePath().toString());
    c.putNull("revision");
    c.put("inference_mode", true);
    c.put("r", lora.r());
    c.put("lora_alpha", lora.alpha());
    c.put("lora_dropout", lora.dropout());
    var tm = c.putArray("target_modules");
    modules.forEach(tm::add);
    c.put("fan_in_fan_out", false);
    c.put("bias", "none");
    c.put("use_rslora", lora.useRslora());
    c.put("use_dora", false);
    c.putNull("modules_to_save");
    c.put("init_lora_weights", true);
    AtomicFiles.writeString(dir.resolve("adapter_config.json"), Json.write(c));
  }

  /**
   * Attaches the PEFT adapter in {@code dir} (replacing nothing: the model must not have adapters yet).
   *
   * @throws InvalidInputException when the adapter does not fit this base model (unknown module, wrong shape)
   */
  public void loadAdapter(Path dir) {
    ensureOpen();
    if (lora != null) {
      throw new IllegalStateException("model already has LoRA adapters");
    }
    Path cfgFile = dir.resolve("adapter_config.json");
    JsonNode c;
    try {
      c = Json.readTree(Files.readString(cfgFile, StandardCharsets.UTF_8), cfgFile.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + cfgFile, e);
    }
    if (!"LORA".equals(c.path("peft_type").asText("LORA"))) {
      throw new UnsupportedFormatException(cfgFile + ": peft_type", "only LORA adapters are supported");
    }
    if (c.path("use_dora").asBoolean(false)) {
      throw new UnsupportedFormatException(cfgFile + ": use_dora", "DoRA adapters are not supported");
    }
    if (!c.has("r")) {
      throw new InvalidInputException(cfgFile + ": r", "missing required field r");
    }
    LoraConfig.Builder b = LoraConfig.builder().r(c.get("r").asInt()).alpha(c.path("lora_alpha").asDouble(8))
        .dropout(c.path("lora_dropout").asDouble(0)).useRslora(c.path("use_rslora").asBoolean(false));
    JsonNode tm = c.get("target_modules");
    List<String> targets = new ArrayList<>();
    if (tm != null && tm.isArray()) {
      tm.forEach(t -> targets.add(t.asText()));
    } else if (tm != null && tm.isTextual()) {
      targets.add(tm.asText());
    }
    if (!targets.isEmpty()) {
      b.targetModules(targets);
    }
    LoraConfig cfg = b.build();
    try (SafetensorsReader st = SafetensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
      Map<String, Linear> byName = new LinkedHashMap<>();
      for (Linear l : allLinears()) {
        byName.put(l.name(), l);
      }
      Map<String, float[][]> found = new TreeMap<>();
      for (String key : st.names()) {
        String mod = key.replaceFirst("^base_model\\.model\\.", "");
        int which;
        if (mod.endsWith(".lora_A.weight")) {
          which = 0;
          mod = mod.substring(0, mod.length() - ".lora_A.weight".length());
        } else if (mod.endsWith(".lora_B.weight")) {
          which = 1;
          mod = mod.substring(0, mod.length() - ".lora_B.weight".length());
        } else {
          throw new UnsupportedFormatException(dir + ": " + key, "unexpected adapter tensor " + key);
        }
        Linear l = byName.get(mod);
        if (l == null) {
          throw new InvalidInputException(dir + ": " + key, "adapter module " + mod + " does not exist in the base model");
        }
        long[] shape = st.tensor(key).orElseThrow().shape();
        long[] expect = which == 0 ? new long[] {cfg.r(), l.in()} : new long[] {l.out(), cfg.r()};
        if (!Arrays.equals(shape, expect)) {
          throw new InvalidInputException(dir + ": " + key, "adapter tensor " + key + " has shape "
              + Arrays.toString(shape) + ", base model needs " + Arrays.toString(expect));
        }
        found.computeIfAbsent(mod, k -> new float[2][])[which] = st.readFloats(key);
      }
      for (Map.Entry<String, float[][]> e : found.entrySet()) {
        if (e.getValue()[0] == null || e.getValue()[1] == null) {
          throw new InvalidInputException(dir + ": " + e.getKey(), "adapter for " + e.getKey() + " lacks lora_A or lora_B");
        }
        attach(byName.get(e.getKey()), cfg, e.getValue()[0], e.getValue()[1]);
      }
      if (found.isEmpty()) {
        throw new InvalidInputException(dir.toString(), "adapter_model.safetensors holds no LoRA tensors");
      }
    }
    lora = cfg;
  }

  // ------------------------------------------------------------------------------------------------ forward

  /** Logits for every position of one sequence ({@code [T][vocab]}), full precision floats. */
  public float[][] logits(int[] tokens) {
    ensureOpen();
    return noGrad(() -> {
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        NDArray out = forward(new int[][] {tokens}, new int[] {tokens.length}, null, null);
        return toRows(out, tokens.length);
      }
    });
  }

  /**
   * Runs {@code f} with libtorch's grad mode off. Grad mode is per thread and starts enabled on threads DJL did not
   * initialise, so inference there would otherwise record a graph.
   */
  static <T> T noGrad(java.util.function.Supplier<T> f) {
    boolean gradMode = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    try {
      return f.get();
    } finally {
      JniUtils.setGradMode(gradMode);
    }
  }

  private float[][] toRows(NDArray logits, int t) {
    float[] flat = logits.toType(DataType.FLOAT32, false).toFloatArray();
    int v = config.vocabSize();
    float[][] rows = new float[t][];
    for (int i = 0; i < t; i++) {
      rows[i] = Arrays.copyOfRange(flat, i * v, (i + 1) * v);
    }
    return rows;
  }

  /** An incremental decoding session with a KV cache. */
  public Session newSession() {
    ensureOpen();
    return new Session();
  }

  /** Incremental decoding state (keys and values of every layer); close it to free them. */
  public final class Session implements AutoCloseable {
    final NDArray[] keys = new NDArray[layers.size()];
    final NDArray[] values = new NDArray[layers.size()];
    int length;
    private boolean sessionClosed;

    /** Appends tokens and returns their logits ({@code [tokens.length][vocab]}). */
    public float[][] append(int... tokens) {
      if (sessionClosed) {
        throw new IllegalStateException("session is closed");
      }
      ensureOpen();
      return noGrad(() -> {
        try (NDScope scope = new NDScope()) {
          scope.suppressNotUsedWarning();
          NDArray out = forward(new int[][] {tokens}, new int[] {tokens.length}, this, null);
          return toRows(out, tokens.length);
        }
      });
    }

    /** Tokens held in the cache. */
    public int length() {
      return length;
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
      if (!sessionClosed) {
        sessionClosed = true;
        for (int i = 0; i < keys.length; i++) {
          if (keys[i] != null) {
            keys[i].close();
            values[i].close();
          }
        }
      }
    }
  }

  /**
   * The decoder forward pass. {@code tokens} is right-padded to a common length; {@code lengths} gives each row's
   * real length (keys beyond it are masked). With a session, the new keys/values are appended to its cache.
   * {@code dropoutRng} non-null means training mode (LoRA dropout active). Returns logits {@code [B, T, V]}.
   */
  NDArray forward(int[][] tokens, int[] lengths, Session cache, SplittableRandom dropoutRng) {
    return forward(tokens, lengths, null, cache, dropoutRng);
  }

  /**
   * As {@link #forward(int[][], int[], Session, SplittableRandom)}; {@code segments} (null = one sequence per row)
   * gives each token's document index for packed rows: positions restart at 0 for every document and attention stays
   * inside it (block-diagonal causal mask).
   */
  NDArray forward(int[][] tokens, int[] lengths, int[][] segments, Session cache, SplittableRandom dropoutRng) {
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
    Session cache;
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

  private Pass prepare(int[][] tokens, int[] lengths, int[][] segments, Session cache, SplittableRandom dropoutRng) {
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
    Layer layer = layers.get(li);
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
      Session cache = p.cache;
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
  record TrainStep(double nllSum, long forwardNanos, long backwardNanos, long forwardDequantNanos,
      long backwardDequantNanos) {}

  /**
   * Forward and backward of one micro-batch: LoRA gradients of {@code gradScale · nllSum} are added to the adapter
   * parameters' gradients. Must be called with no {@link GradientCollector} open. With {@code checkpoint}, the forward
   * pass records no graph and keeps only each decoder layer's input; backward then walks the layers in reverse,
   * recomputes each one with recording (dequantizing its NF4 weights again) and back-propagates the upstream gradient
   * through it, so at most one layer's activations and dequantized weights exist at a time. The loss head runs in
   * chunks of rows so the {@code [tokens, vocab]} logits never exist whole.
   */
  TrainStep trainBackward(int[][] tokens, int[] lengths, int[][] segments, int[][] targets, SplittableRandom dropoutRng,
      double gradScale, boolean checkpoint) {
    long t0 = System.nanoTime();
    long d0 = dequantNanos();
    if (!checkpoint) {
      try (NDScope scope = new NDScope(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        scope.suppressNotUsedWarning();
        NDArray nll = nllSum(tokens, lengths, segments, targets, dropoutRng);
        double loss = nll.toType(DataType.FLOAT64, false).getDouble();
        long t1 = System.nanoTime();
        long d1 = dequantNanos();
        gc.backward(nll.mul(Tensors.scalar(manager, gradScale, nll.getDataType())));
        return new TrainStep(loss, t1 - t0, System.nanoTime() - t1, d1 - d0, dequantNanos() - d1);
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
      d1 = dequantNanos();
      NDArray grad;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray last = saved[n];
        last.setRequiresGradient(true);
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
    return new TrainStep(loss, t1 - t0, System.nanoTime() - t1, d1 - d0, dequantNanos() - d1);
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
  NDArray nllSum(int[][] tokens, int[] lengths, int[][] targets, SplittableRandom dropoutRng) {
    return nllSum(tokens, lengths, null, targets, dropoutRng);
  }

  /** {@link #nllSum(int[][], int[], int[][], SplittableRandom)} for packed rows (see segments in forward). */
  NDArray nllSum(int[][] tokens, int[] lengths, int[][] segments, int[][] targets, SplittableRandom dropoutRng) {
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
  static final int IGNORE = -100;

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
  private NDArray moe(Layer layer, NDArray x, NDManager m, SplittableRandom rng) {
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
  static int[][] packedPositions(int[][] segments) {
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

  // ------------------------------------------------------------------------------------------------ generation

  /** Generates up to {@code cfg.maxNewTokens()} tokens after {@code prompt}; returns only the new tokens. */
  public int[] generate(int[] prompt, GenerationConfig cfg) {
    ensureOpen();
    if (prompt.length == 0) {
      throw new IllegalArgumentException("prompt must hold at least one token");
    }
    Sampler sampler = new Sampler(cfg.temperature(), cfg.topP(), cfg.seed());
    List<Integer> out = new ArrayList<>();
    try (Session s = newSession()) {
      float[][] logits = s.append(prompt);
      float[] last = logits[logits.length - 1];
      for (int i = 0; i < cfg.maxNewTokens(); i++) {
        int next = sampler.next(last);
        if (cfg.stopAtEos() && config.eosTokenIds().contains(next)) {
          break;
        }
        out.add(next);
        if (i + 1 < cfg.maxNewTokens()) {
          last = s.append(next)[0];
        }
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Tokenizes {@code prompt} (with BOS), generates and decodes the continuation. */
  public String generate(String prompt, GenerationConfig cfg) {
    int[] ids = encode(prompt);
    int[] withBos = new int[ids.length + 1];
    withBos[0] = config.bosTokenId();
    System.arraycopy(ids, 0, withBos, 1, ids.length);
    return decode(generate(withBos, cfg));
  }

  // ------------------------------------------------------------------------------------------------ export

  /** Memory held by the model's weights. */
  public record MemoryReport(long linearBaseBytes, long linearFp16Bytes, long otherBytes, long linearParams,
      long loraParams) {
    /** Bits per linear-layer parameter as held. */
    public double linearBitsPerParam() {
      return linearParams == 0 ? 0 : linearBaseBytes * 8.0 / linearParams;
    }

    /** Held bytes of the linear layers relative to fp16. */
    public double ratioToFp16() {
      return linearFp16Bytes == 0 ? 0 : (double) linearBaseBytes / linearFp16Bytes;
    }
  }

  /** Memory accounting of the base weights (and adapter parameter count). */
  public MemoryReport memoryReport() {
    ensureOpen();
    long base = 0;
    long params = 0;
    for (Linear l : allLinears()) {
      base += l.baseBytes();
      params += (long) l.in() * l.out();
    }
    long other = embed.size() * dtype.getNumOfBytes() + finalNorm.size() * dtype.getNumOfBytes()
        + (config.tieWordEmbeddings() ? 0 : lmHead.size() * dtype.getNumOfBytes())
        + 2L * layers.size() * config.hiddenSize() * dtype.getNumOfBytes();
    return new MemoryReport(base, params * 2, other, params, lora == null ? 0 : loraParameterCount());
  }

  /** Which base weights {@link #mergeAndSave(Path, SafetensorsReader.DType, long, MergeBase)} merges into. */
  public enum MergeBase {
    /**
     * The checkpoint's own F32/F16/BF16 linear weights when the source directory has them all (so the NF4 rounding
     * error is not baked into the export), else {@link #HELD}.
     */
    ORIGINAL_IF_AVAILABLE,
    /** The checkpoint's own weights; fails when the source has none (e.g. a pre-quantized bitsandbytes checkpoint). */
    ORIGINAL,
    /** The weights as this model holds them: NF4 dequantized when quantized (PEFT's merge into a 4-bit base). */
    HELD
  }

  /**
   * {@link #mergeAndSave(Path, SafetensorsReader.DType, long, MergeBase)} into the original weights when the source
   * checkpoint has them.
   */
  public void mergeAndSave(Path outDir, SafetensorsReader.DType dtypeOut, long maxShardBytes) {
    mergeAndSave(outDir, dtypeOut, maxShardBytes, MergeBase.ORIGINAL_IF_AVAILABLE);
  }

  /**
   * Writes a full-precision Hugging Face checkpoint: the base weights with the adapters merged
   * ({@code W + scale·B·A}, computed in float32), config.json, generation_config.json and the tokenizer files of the
   * source checkpoint. {@code base} chooses W: the source checkpoint's own linear weights, read again tensor by tensor
   * (the default when present), or the weights as held (dequantized NF4). Tensors are produced one at a time while
   * writing; shards of at most {@code maxShardBytes} with an index when more than one is needed.
   *
   * @throws InvalidInputException with {@link MergeBase#ORIGINAL} when the source lacks a float linear weight
   */
  public void mergeAndSave(Path outDir, SafetensorsReader.DType dtypeOut, long maxShardBytes, MergeBase base) {
    ensureOpen();
    Optional<String> missing = originalWeightsMissing();
    boolean original = switch (base) {
      case HELD -> false;
      case ORIGINAL -> {
        if (missing.isPresent()) {
          throw new InvalidInputException(source + ": " + missing.get(), "cannot merge into the original weights: "
              + missing.get() + " is not an F32/F16/BF16 tensor of the source checkpoint");
        }
        yield true;
      }
      case ORIGINAL_IF_AVAILABLE -> missing.isEmpty();
    };
    boolean anyQuantized = allLinears().stream().anyMatch(Linear::quantized);
    if (!original && anyQuantized) {
      LOG.warn("merging into NF4-dequantized base weights ({}): the export carries the NF4 rounding error",
          base == MergeBase.HELD ? "requested" : "source has no float weights for " + missing.orElse("?"));
    } else if (original) {
      LOG.info("merging adapters into the original weights of {}", source);
    }
    if (dtypeOut != SafetensorsReader.DType.F32 && dtypeOut != SafetensorsReader.DType.F16
        && dtypeOut != SafetensorsReader.DType.BF16) {
      throw new IllegalArgumentException("merged checkpoints are F32, F16 or BF16, not " + dtypeOut);
    }
    record Item(String name, long[] shape, java.util.function.Supplier<float[]> data) {}
    List<Item> items = new ArrayList<>();
    int h = config.hiddenSize();
    items.add(new Item("model.embed_tokens.weight", new long[] {config.vocabSize(), h}, () -> floats(embed)));
    for (int i = 0; i < layers.size(); i++) {
      Layer layer = layers.get(i);
      String p = "model.layers." + i + ".";
      items.add(new Item(p + "input_layernorm.weight", new long[] {h}, () -> floats(layer.inputNorm)));
      items.add(new Item(p + "post_attention_layernorm.weight", new long[] {h}, () -> floats(layer.postNorm)));
      for (Linear l : layer.linears()) {
        items.add(new Item(l.name() + ".weight", new long[] {l.out(), l.in()}, () -> merged(l, original)));
      }
    }
    items.add(new Item("model.norm.weight", new long[] {h}, () -> floats(finalNorm)));
    if (!config.tieWordEmbeddings()) {
      items.add(new Item("lm_head.weight", new long[] {config.vocabSize(), h}, () -> floats(lmHead)));
    }
    List<SafetensorsWriter> shards = new ArrayList<>();
    List<List<String>> shardNames = new ArrayList<>();
    SafetensorsWriter cur = null;
    List<String> curNames = null;
    long curBytes = 0;
    for (Item it : items) {
      long n = 1;
      for (long d : it.shape()) {
        n *= d;
      }
      long bytes = n * dtypeOut.bytes();
      if (cur == null || (curBytes > 0 && curBytes + bytes > maxShardBytes)) {
        cur = new SafetensorsWriter();
        curNames = new ArrayList<>();
        shards.add(cur);
        shardNames.add(curNames);
        curBytes = 0;
      }
      final Item item = it;
      cur.add(it.name(), dtypeOut, it.shape(), os -> writeFloats(os, dtypeOut, item.data().get()));
      curNames.add(it.name());
      curBytes += bytes;
    }
    try {
      Files.createDirectories(outDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + outDir, e);
    }
    if (shards.size() == 1) {
      shards.get(0).write(outDir.resolve("model.safetensors"));
    } else {
      ObjectNode index = Json.object();
      ObjectNode wm = Json.object();
      long total = 0;
      for (int s = 0; s < shards.size(); s++) {
        String file = String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
        shards.get(s).write(outDir.resolve(file));
        total += shards.get(s).dataBytes();
        for (String n : shardNames.get(s)) {
          wm.put(n, file);
        }
      }
      index.putObject("metadata").put("total_size", total);
      index.set("weight_map", wm);
      AtomicFiles.writeString(outDir.resolve("model.safetensors.index.json"), Json.write(index));
    }
    String torchDtype = switch (dtypeOut) {
      case F16 -> "float16";
      case BF16 -> "bfloat16";
      default -> "float32";
    };
    LlamaConfig out = LlamaConfig.builder().from(config).torchDtype(torchDtype).build();
    AtomicFiles.writeString(outDir.resolve("config.json"), out.toJson());
    ObjectNode gen = Json.object();
    gen.put("bos_token_id", config.bosTokenId());
    gen.put("eos_token_id", config.eosTokenIds().get(0));
    AtomicFiles.writeString(outDir.resolve("generation_config.json"), Json.write(gen));
    for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model")) {
      Path src = source.resolve(f);
      if (Files.exists(src)) {
        try {
          byte[] bytes = Files.readAllBytes(src);
          AtomicFiles.write(outDir.resolve(f), bytes);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot copy " + src, e);
        }
      }
    }
  }

  /** {@link #mergeAndSave(Path, SafetensorsReader.DType, long)} as F32 in shards of at most 2 GB. */
  public void mergeAndSave(Path outDir) {
    mergeAndSave(outDir, SafetensorsReader.DType.F32, 2L << 30);
  }

  /** The first linear weight the source checkpoint lacks as an F32/F16/BF16 tensor of the right shape, if any. */
  private Optional<String> originalWeightsMissing() {
    try (SafetensorsReader st = SafetensorsReader.open(source)) {
      for (Linear l : allLinears()) {
        String name = l.name() + ".weight";
        Optional<SafetensorsReader.TensorInfo> t = st.tensor(name);
        if (t.isEmpty() || !Arrays.equals(t.get().shape(), new long[] {l.out(), l.in()})) {
          return Optional.of(name);
        }
        switch (t.get().dtype()) {
          case F32, F16, BF16 -> { }
          default -> {
            return Optional.of(name);
          }
        }
      }
      return Optional.empty();
    } catch (RuntimeException e) {
      LOG.debug("source checkpoint {} not readable for an original-weight merge", source, e);
      return Optional.of("model.safetensors");
    }
  }

  private float[] merged(Linear l, boolean original) {
    float[] w;
    if (original) {
      try (SafetensorsReader st = SafetensorsReader.open(source)) {
        w = st.readFloats(l.name() + ".weight");
      }
    } else {
      w = l.baseWeight();
    }
    if (l.hasLora()) {
      kernels.mergeLora(w, l.out(), l.in(), floats(l.loraA()), floats(l.loraB()), (int) l.loraA().getShape().get(0),
          (float) l.scaling());
    }
    return w;
  }

  private static float[] floats(NDArray a) {
    return a.getDataType() == DataType.FLOAT32 ? a.toFloatArray() : a.toType(DataType.FLOAT32, false).toFloatArray();
  }

  private static void writeFloats(java.io.OutputStream os, SafetensorsReader.DType dt, float[] data) throws IOException {
    int width = dt.bytes();
    ByteBuffer buf = ByteBuffer.allocate(8192 * width).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : data) {
      switch (dt) {
        case F32 -> buf.putFloat(f);
        case F16 -> buf.putShort(dev.securetag.core.Half.floatToF16(f));
        default -> buf.putShort(dev.securetag.core.Half.floatToBf16(f));
      }
      if (!buf.hasRemaining()) {
        os.write(buf.array(), 0, buf.position());
        buf.clear();
      }
    }
    os.write(buf.array(), 0, buf.position());
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("LlamaModel is closed");
    }
  }

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

  @Override
  public String toString() {
    return "LlamaModel{" + config.architecture() + ", " + config.numHiddenLayers() + " layers, hidden "
        + config.hiddenSize() + ", " + options.quantization() + (lora != null ? ", LoRA r=" + lora.r() : "") + "}";
  }
}

package dev.securetag.train.internal;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.HfConfig;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.core.internal.Json;
import dev.securetag.train.ComputeDevice;
import dev.securetag.train.KernelBackend;
import dev.securetag.train.KernelBackends;
import dev.securetag.train.ModelOptions;
import dev.securetag.train.Nf4Tensor;
import dev.securetag.train.Precision;
import dev.securetag.train.Quantization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a Hugging Face checkpoint into {@link DecoderWeights}: config.json through securetag-core's
 * {@link HfConfig} (then refused when it asks for something this trainer cannot compute), the device and precision
 * resolved from {@link ModelOptions}, tensors read and converted one at a time (bf16/f16 to the compute dtype in Java;
 * bitsandbytes NF4 {@code *-bnb-4bit} tensors read directly), NF4 quantization on load, and the tokenizer.
 */
public final class DecoderLoader {
  private static final Logger LOG = LoggerFactory.getLogger(DecoderLoader.class);
  private static boolean threadsAligned;

  private DecoderLoader() {}

  /**
   * Loads {@code dir} (config.json, model.safetensors or a sharded index, optional tokenizer.json).
   *
   * @throws InvalidInputException naming the field or tensor when the config or a tensor is missing or inconsistent
   * @throws UnsupportedFormatException for unknown architectures, unsupported dtypes or config features
   */
  public static DecoderWeights load(Path dir, ModelOptions options) {
    if (options.float64() && options.precision() != Precision.AUTO && options.precision() != Precision.FP32) {
      throw new IllegalArgumentException("float64 compute excludes precision " + options.precision());
    }
    HfConfig cfg = HfConfig.load(dir);
    requireTrainable(cfg, dir.resolve("config.json").toString());
    Device device = resolveDevice(options.device());
    KernelBackends.Selection kb = KernelBackends.select(options.kernels(), options.kernelThreads());
    alignTorchThreadsWithOmpLimit();
    NDManager manager = NDManager.newBaseManager(device);
    HuggingFaceTokenizer tok = null;
    boolean ok = false;
    try (SafetensorsReader st = SafetensorsReader.open(dir)) {
      DataType dt = options.float64() ? DataType.FLOAT64 : DataType.FLOAT32;
      TensorReader t = new TensorReader(st, dir, manager, dt, options.quantization(), kb.backend());
      int h = cfg.hiddenSize();
      NDArray embed = t.dense("model.embed_tokens.weight", cfg.vocabSize(), h);
      List<DecoderWeights.Layer> layers = new ArrayList<>();
      int qd = cfg.numAttentionHeads() * cfg.headDim();
      int kvd = cfg.numKeyValueHeads() * cfg.headDim();
      for (int i = 0; i < cfg.numHiddenLayers(); i++) {
        String p = "model.layers." + i + ".";
        DecoderWeights.Layer layer = new DecoderWeights.Layer();
        layer.inputNorm = t.dense(p + "input_layernorm.weight", h);
        layer.postNorm = t.dense(p + "post_attention_layernorm.weight", h);
        layer.q = t.linear(p + "self_attn.q_proj", h, qd, true);
        layer.k = t.linear(p + "self_attn.k_proj", h, kvd, true);
        layer.v = t.linear(p + "self_attn.v_proj", h, kvd, true);
        layer.o = t.linear(p + "self_attn.o_proj", qd, h, true);
        if (cfg.isMoe()) {
          String mp = p + "block_sparse_moe.";
          layer.router = t.linear(mp + "gate", h, cfg.numLocalExperts(), false);
          for (int e = 0; e < cfg.numLocalExperts(); e++) {
            String ep = mp + "experts." + e + ".";
            layer.experts.add(new Linear[] {t.linear(ep + "w1", h, cfg.intermediateSize(), true),
                t.linear(ep + "w3", h, cfg.intermediateSize(), true), t.linear(ep + "w2", cfg.intermediateSize(), h, true)});
          }
        } else {
          layer.gate = t.linear(p + "mlp.gate_proj", h, cfg.intermediateSize(), true);
          layer.up = t.linear(p + "mlp.up_proj", h, cfg.intermediateSize(), true);
          layer.down = t.linear(p + "mlp.down_proj", cfg.intermediateSize(), h, true);
        }
        layers.add(layer);
      }
      NDArray norm = t.dense("model.norm.weight", h);
      NDArray head = cfg.tieWordEmbeddings() ? embed : t.dense("lm_head.weight", cfg.vocabSize(), h);
      Path tj = dir.resolve("tokenizer.json");
      if (Files.exists(tj)) {
        try {
          tok = HuggingFaceTokenizer.builder().optTokenizerPath(tj).optAddSpecialTokens(false).optTruncation(false)
              .optPadding(false).build();
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read " + tj, e);
        }
      }
      DecoderWeights w = new DecoderWeights(cfg, options, dir, manager, resolvePrecision(options, device),
          kb.backend(), kb.reason(), tok, embed, norm, head, layers, ropeInverseFrequencies(cfg));
      ok = true;
      LOG.info("loaded {} ({} layers, {} params) from {} with {} base weights on {}, {} matmuls, {} attention, "
          + "merge kernels {}", cfg.architecture(), cfg.numHiddenLayers(), cfg.parameterCount(), dir,
          options.quantization(), deviceName(device), w.precision(), w.attention(), kb.backend().name());
      return w;
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
   * Refuses what securetag-core's parser accepts but this trainer cannot compute: activations other than SiLU,
   * projection biases, and RoPE scaling other than linear and llama3 (YaRN and dynamic NTK). The error names the field.
   */
  public static void requireTrainable(HfConfig c, String location) {
    if (!c.hiddenAct().equals("silu")) {
      throw new UnsupportedFormatException(location + ": hidden_act", "only silu is supported, was " + c.hiddenAct());
    }
    if (c.attentionBias()) {
      throw new UnsupportedFormatException(location + ": attention_bias", "attention_bias=true is not supported");
    }
    if (c.mlpBias()) {
      throw new UnsupportedFormatException(location + ": mlp_bias", "mlp_bias=true is not supported");
    }
    if (c.ropeScaling().isPresent()) {
      String type = c.ropeScaling().get().type();
      if (!type.equals("linear") && !type.equals("llama3")) {
        throw new UnsupportedFormatException(location + ": rope_scaling.rope_type",
            "unsupported RoPE scaling '" + type + "' for training (default, linear, llama3)");
      }
    }
  }

  /** {@code cpu} or {@code cuda:N}. */
  public static String deviceName(Device device) {
    return device.isGpu() ? "cuda:" + device.getDeviceId() : "cpu";
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

  /** The device for a preference: CUDA when asked (or AUTO and available), else the CPU. */
  public static Device resolveDevice(ComputeDevice pref) {
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

  /** The matmul precision for the options on a device: AUTO is BF16 on a GPU and FP32 on the CPU. */
  public static Precision resolvePrecision(ModelOptions o, Device d) {
    if (o.float64()) {
      return Precision.FP32;
    }
    if (o.precision() == Precision.AUTO) {
      return d.isGpu() ? Precision.BF16 : Precision.FP32;
    }
    return o.precision();
  }

  /** RoPE inverse frequencies with linear or llama3 scaling applied. */
  static float[] ropeInverseFrequencies(HfConfig c) {
    int half = c.headDim() / 2;
    float[] inv = new float[half];
    for (int j = 0; j < half; j++) {
      double f = 1.0 / Math.pow(c.ropeTheta(), (2.0 * j) / c.headDim());
      if (c.ropeScaling().isPresent()) {
        HfConfig.RopeScaling s = c.ropeScaling().get();
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

  /** Reads and validates tensors one by one. */
  private static final class TensorReader {
    final SafetensorsReader st;
    final Path dir;
    final NDManager manager;
    final DataType dt;
    final Quantization quant;
    final DeviceNf4.Tables tables;
    final KernelBackend kernels;
    final boolean torchDequant;

    TensorReader(SafetensorsReader st, Path dir, NDManager manager, DataType dt, Quantization quant, KernelBackend kernels) {
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

    NDArray dense(String name, long... shape) {
      return Tensors.of(manager, floats(name, shape), new Shape(shape), dt);
    }

    Linear linear(String module, int in, int out, boolean quantizable) {
      Linear lin = new Linear(module, in, out);
      if (st.tensor(module + ".weight.quant_state.bitsandbytes__nf4").isPresent()) {
        Nf4Tensor q = readBnbNf4(st, dir, module, out, in);
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
      if (!Arrays.equals(map, BnbTables.NF4)) {
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
        if (!Arrays.equals(map, BnbTables.DYNAMIC)) {
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
}

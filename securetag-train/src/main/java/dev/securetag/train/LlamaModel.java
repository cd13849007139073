package dev.securetag.train;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.types.DataType;
import dev.securetag.core.HfConfig;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.UnsupportedFormatException;
import dev.securetag.train.internal.DecoderForward;
import dev.securetag.train.internal.DecoderGeneration;
import dev.securetag.train.internal.DecoderLoader;
import dev.securetag.train.internal.DecoderWeights;
import dev.securetag.train.internal.Linear;
import dev.securetag.train.internal.MergedExport;
import dev.securetag.train.internal.PeftAdapters;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A Llama / Mistral / Mixtral decoder held in DJL (PyTorch engine): loaded from a Hugging Face checkpoint tensor by
 * tensor, base linear weights optionally in NF4, optional LoRA adapters in PEFT's layout, logits and KV-cached
 * generation, and a merged full-precision export. Holds native memory: close it.
 *
 * <p>This is the public face of the model; the work is done in {@code dev.securetag.train.internal} (loading,
 * PEFT adapter I/O, the forward and training passes, generation, merged export), which {@link QloraTrainer} drives.
 *
 * <pre>{@code
 * try (LlamaModel m = LlamaModel.load(dir, ModelOptions.fullPrecision())) {
 *   String text = m.generate("### Instruction:\nHi\n\n### Response:\n", GenerationConfig.greedy(32));
 * }
 * }</pre>
 */
public final class LlamaModel implements AutoCloseable {
  private final DecoderWeights weights;
  private final DecoderForward forward;
  private final DecoderGeneration generation;
  private final PeftAdapters adapters;

  private LlamaModel(DecoderWeights weights) {
    this.weights = weights;
    this.forward = new DecoderForward(weights);
    this.generation = new DecoderGeneration(weights, forward);
    this.adapters = new PeftAdapters(weights);
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
   * @throws UnsupportedFormatException for unknown architectures, unsupported dtypes or config features (biases,
   *     activations other than SiLU, RoPE scaling other than linear and llama3)
   */
  public static LlamaModel load(Path dir, ModelOptions options) {
    return new LlamaModel(DecoderLoader.load(dir, options));
  }

  /**
   * Why CUDA cannot be used for the model, or empty when DJL's PyTorch engine sees a GPU. The usual reason on a GPU
   * machine is a CPU-only libtorch: Maven Central has no CUDA build of PyTorch 2.7.1, see the README.
   */
  public static Optional<String> cudaUnavailableReason() {
    return DecoderLoader.cudaUnavailableReason();
  }

  /** The loaded weights and state, for {@link QloraTrainer} and this package's tests. */
  DecoderWeights weights() {
    return weights;
  }

  /** The forward and training passes, for {@link QloraTrainer} and this package's tests. */
  DecoderForward decoder() {
    return forward;
  }

  /** The model's configuration. */
  public HfConfig config() {
    return weights.config();
  }

  /** The options it was loaded with. */
  public ModelOptions options() {
    return weights.options();
  }

  /** The checkpoint directory it was loaded from. */
  public Path source() {
    return weights.source();
  }

  /** The device the model lives on, e.g. {@code cpu} or {@code cuda:0}. */
  public String deviceName() {
    return DecoderLoader.deviceName(weights.device());
  }

  /** Precision of the matmuls as resolved for the device (never AUTO). */
  public Precision precision() {
    return weights.precision();
  }

  /** The attention implementation. */
  public AttentionKernel attention() {
    return weights.attention();
  }

  /** The kernel backend in use and why it was chosen. */
  public String kernelInfo() {
    return weights.kernels().name() + " (" + weights.kernelReason() + ")";
  }

  /** The tokenizer from the checkpoint's tokenizer.json. */
  public Optional<HuggingFaceTokenizer> tokenizer() {
    return weights.tokenizer();
  }

  /** Token ids of {@code text} without special tokens. */
  public int[] encode(String text) {
    weights.ensureOpen();
    return generation.encode(text);
  }

  /** Text of {@code ids}, skipping special tokens. */
  public String decode(int[] ids) {
    weights.ensureOpen();
    return generation.decode(ids);
  }

  // ------------------------------------------------------------------------------------------------ LoRA

  /** Adds fresh PEFT-initialised adapters (A Kaiming-uniform, B zero) to every module {@code cfg} targets. */
  public void addLora(LoraConfig cfg, long seed) {
    weights.ensureOpen();
    adapters.add(cfg, seed);
  }

  /** The LoRA settings, when adapters are attached. */
  public Optional<LoraConfig> lora() {
    return weights.lora();
  }

  /** Module paths that carry adapters, in model order. */
  public List<String> loraModules() {
    return adapters.modules();
  }

  /** Number of trainable adapter parameters. */
  public long loraParameterCount() {
    return adapters.parameterCount();
  }

  /** A copy of the adapter A matrix ({@code [r, in]}, row-major) of {@code module}. */
  public float[] loraA(String module) {
    weights.ensureOpen();
    return adapters.a(module);
  }

  /** A copy of the adapter B matrix ({@code [out, r]}, row-major) of {@code module}. */
  public float[] loraB(String module) {
    weights.ensureOpen();
    return adapters.b(module);
  }

  /** Overwrites the adapter matrices of {@code module}. */
  public void setLora(String module, float[] a, float[] b) {
    weights.ensureOpen();
    adapters.set(module, a, b);
  }

  /**
   * Writes a PEFT adapter directory: {@code adapter_config.json} and {@code adapter_model.safetensors} with keys
   * {@code base_model.model.<module>.lora_A.weight} ([r, in]) and {@code .lora_B.weight} ([out, r]), F32.
   */
  public void saveAdapter(Path dir) {
    weights.ensureOpen();
    adapters.save(dir);
  }

  /**
   * Attaches the PEFT adapter in {@code dir} (replacing nothing: the model must not have adapters yet).
   *
   * @throws InvalidInputException when the adapter does not fit this base model (unknown module, wrong shape)
   */
  public void loadAdapter(Path dir) {
    weights.ensureOpen();
    adapters.load(dir);
  }

  // ------------------------------------------------------------------------------------------------ inference

  /** Logits for every position of one sequence ({@code [T][vocab]}), full precision floats. */
  public float[][] logits(int[] tokens) {
    weights.ensureOpen();
    return forward.logits(tokens);
  }

  /** An incremental decoding session with a KV cache. */
  public Session newSession() {
    weights.ensureOpen();
    return new Session(forward.newCache());
  }

  /** Incremental decoding state (keys and values of every layer); close it to free them. */
  public final class Session implements AutoCloseable {
    private final DecoderForward.KvCache cache;

    private Session(DecoderForward.KvCache cache) {
      this.cache = cache;
    }

    /** Appends tokens and returns their logits ({@code [tokens.length][vocab]}). */
    public float[][] append(int... tokens) {
      if (cache.isClosed()) {
        throw new IllegalStateException("session is closed");
      }
      weights.ensureOpen();
      return forward.append(cache, tokens);
    }

    /** Tokens held in the cache. */
    public int length() {
      return cache.length();
    }

    @Override
    public void close() {
      cache.close();
    }
  }

  /** Generates up to {@code cfg.maxNewTokens()} tokens after {@code prompt}; returns only the new tokens. */
  public int[] generate(int[] prompt, GenerationConfig cfg) {
    weights.ensureOpen();
    return generation.generate(prompt, cfg);
  }

  /** Tokenizes {@code prompt} (with BOS), generates and decodes the continuation. */
  public String generate(String prompt, GenerationConfig cfg) {
    weights.ensureOpen();
    return generation.generate(prompt, cfg);
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
    weights.ensureOpen();
    long base = 0;
    long params = 0;
    for (Linear l : weights.allLinears()) {
      base += l.baseBytes();
      params += (long) l.in() * l.out();
    }
    DataType dtype = weights.dtype();
    HfConfig config = weights.config();
    long other = weights.embed().size() * dtype.getNumOfBytes() + weights.finalNorm().size() * dtype.getNumOfBytes()
        + (config.tieWordEmbeddings() ? 0 : weights.lmHead().size() * dtype.getNumOfBytes())
        + 2L * weights.layers().size() * config.hiddenSize() * dtype.getNumOfBytes();
    return new MemoryReport(base, params * 2, other, params, weights.lora().isEmpty() ? 0 : loraParameterCount());
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

  /** {@link #mergeAndSave(Path, SafetensorsReader.DType, long)} as F32 in shards of at most 2 GB. */
  public void mergeAndSave(Path outDir) {
    mergeAndSave(outDir, SafetensorsReader.DType.F32, 2L << 30);
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
    weights.ensureOpen();
    new MergedExport(weights).write(outDir, dtypeOut, maxShardBytes, base);
  }

  @Override
  public void close() {
    weights.close();
  }

  @Override
  public String toString() {
    HfConfig config = weights.config();
    return "LlamaModel{" + config.architecture() + ", " + config.numHiddenLayers() + " layers, hidden "
        + config.hiddenSize() + ", " + weights.options().quantization()
        + weights.lora().map(l -> ", LoRA r=" + l.r()).orElse("") + "}";
  }
}

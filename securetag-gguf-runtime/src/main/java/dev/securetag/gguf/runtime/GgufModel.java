package dev.securetag.gguf.runtime;

import dev.securetag.gguf.GgufValue;
import dev.securetag.gguf.GgufFormatException;
import dev.securetag.gguf.GgmlType;
import dev.securetag.gguf.GgufReader;
import dev.securetag.core.ChatMessage;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.LlmClient;
import dev.securetag.gguf.runtime.internal.LlamaConfig;
import dev.securetag.gguf.runtime.internal.LlamaWeights;
import dev.securetag.gguf.runtime.internal.LocalLlmClient;
import dev.securetag.gguf.runtime.internal.LoraAdapter;
import dev.securetag.gguf.runtime.internal.Parallel;
import dev.securetag.gguf.runtime.internal.PromptRenderer;
import dev.securetag.gguf.runtime.internal.Sampler;
import dev.securetag.gguf.runtime.internal.Tokenizer;
import dev.securetag.gguf.runtime.internal.TextStream;
import dev.securetag.gguf.runtime.internal.Transformer;
import dev.securetag.gguf.runtime.internal.Kernels;
import dev.securetag.gguf.runtime.internal.NativeKernels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A llama-architecture GGUF model (Llama, Mistral, Mixtral) running on the CPU in plain Java: weights stay
 * memory-mapped in their file types (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) and are
 * multiplied with Vector API kernels, in parallel over rows; inputs of quantized weights are rounded to 8 bits as
 * llama.cpp rounds them, so the logits are llama.cpp's. An optional GGUF LoRA adapter is applied on top at run time.
 * The tokenizer comes from the GGUF metadata (SentencePiece-style {@code llama} and byte-level BPE {@code gpt2}
 * vocabularies).
 *
 * <pre>{@code
 * try (GgufModel model = GgufModel.builder().ggufFile(Path.of("model-q4_k_m.gguf")).threads(2).build()) {
 *   GenerationResult r = model.generate("The quick brown fox", GenerationOptions.greedy(16),
 *       (id, text) -> System.out.print(text));
 *   System.out.println(r.tokensPerSecond() + " tok/s");
 * }
 * }</pre>
 *
 * <p>Thread-safe: each generation uses its own {@link GgufSession}. Close the model to unmap it and stop its threads.
 */
public final class GgufModel implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GgufModel.class);
  /** Context used when the caller sets none: the model's own, capped like Ollama's default. */
  public static final int DEFAULT_CONTEXT = 4096;

  private final Path file;
  private final GgufReader reader;
  private final GgufReader adapterReader;
  private final LlamaConfig config;
  private final LlamaWeights weights;
  private final Tokenizer tokenizer;
  private final Parallel parallel;
  private final Transformer transformer;
  private final int contextLength;
  private final String chatTemplate;
  private volatile boolean closed;

  private GgufModel(Builder b) {
    this.file = b.file;
    GgufReader r = GgufReader.open(b.file);
    GgufReader ar = null;
    Parallel par = null;
    try {
      LlamaConfig.requireModel(r);
      this.tokenizer = Tokenizer.fromGguf(r);
      this.config = LlamaConfig.read(r, tokenizer.vocabSize());
      this.weights = LlamaWeights.load(r, config, b.vectorized, b.vectorized && b.nativeKernels);
      LoraAdapter lora = null;
      if (b.adapter != null) {
        ar = GgufReader.open(b.adapter);
        lora = LoraAdapter.load(ar, weights, config.architecture(), b.adapterScale, b.vectorized);
      }
      par = new Parallel(b.threads != null ? b.threads : Runtime.getRuntime().availableProcessors());
      this.transformer = new Transformer(config, weights, lora, par);
      int ctx = b.contextLength != null ? b.contextLength : Math.min(config.contextLength(), DEFAULT_CONTEXT);
      this.contextLength = ctx;
      this.chatTemplate = r.get("tokenizer.chat_template").map(GgufValue::asString).orElse(null);
    } catch (RuntimeException e) {
      r.close();
      if (ar != null) {
        ar.close();
      }
      if (par != null) {
        par.close();
      }
      throw e;
    }
    this.reader = r;
    this.adapterReader = ar;
    this.parallel = par;
    LOG.info("loaded {}: {} layers, dim {}, {} params, {}{}, {} threads, vector kernels {} ({} lanes), native kernels {}",
        file, config.layers(), config.dim(), weights.parameterCount(), weights.dominantType(),
        ar != null ? " + LoRA " + b.adapter.getFileName() : "", par.threads(),
        b.vectorized && Kernels.AVAILABLE ? "on" : "off", Kernels.lanes(),
        !b.vectorized || !b.nativeKernels ? "off (by the builder)" : NativeKernels.status());
  }

  /** Loads {@code file} with default settings (all cores, vector kernels, no adapter). */
  public static GgufModel load(Path file) {
    return builder().ggufFile(file).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Settings for {@link GgufModel}; the GGUF file is required. Setters only record values; {@link #build()} checks
   * them and names the first one out of range.
   */
  public static final class Builder {
    private Path file;
    private Path adapter;
    private float adapterScale = 1.0f;
    private Integer threads;
    private Integer contextLength;
    private boolean vectorized = true;
    private boolean nativeKernels = true;

    private Builder() {}

    /** The GGUF model file (required). */
    public Builder ggufFile(Path file) {
      this.file = file;
      return this;
    }

    /**
     * Old name of {@link #ggufFile(Path)}.
     *
     * @deprecated the GGUF file is {@code ggufFile} on every securetag builder; use {@link #ggufFile(Path)}
     */
    @Deprecated
    public Builder file(Path file) {
      return ggufFile(file);
    }

    /** A GGUF LoRA adapter ({@code general.type = adapter}) to apply on top of the model. */
    public Builder adapter(Path adapter) {
      this.adapter = adapter;
      return this;
    }

    /** The adapter's user scale (llama.cpp's {@code --lora-scaled}); default 1, must be finite. */
    public Builder adapterScale(float scale) {
      this.adapterScale = scale;
      return this;
    }

    /** Worker threads for matrix products (at least 1); default = available processors. */
    public Builder threads(int threads) {
      this.threads = threads;
      return this;
    }

    /** Positions per sequence (KV cache size, at least 1); default min(model context, 4096). */
    public Builder contextLength(int contextLength) {
      this.contextLength = contextLength;
      return this;
    }

    /** Vector API kernels (default) or the scalar reference path (which also turns the native kernels off). */
    public Builder vectorized(boolean vectorized) {
      this.vectorized = vectorized;
      return this;
    }

    /**
     * Whether quantized products (Q8_0, Q4_0, Q4_K, Q6_K) may use the bundled native kernels (AVX2 / AVX-512 VNNI
     * 8-bit multiply-adds, about 2x the Java kernels' decode and 1.7x their prompt rate) where they were built into
     * this jar and the CPU has them; default true. False keeps every product in the Java Vector API kernels. The
     * results are the same integer sums either way.
     */
    public Builder nativeKernels(boolean nativeKernels) {
      this.nativeKernels = nativeKernels;
      return this;
    }

    /**
     * Checks the settings, maps the file and builds the model.
     *
     * @throws IllegalStateException when no GGUF file is set
     * @throws IllegalArgumentException naming the first setting out of range
     * @throws GgufFormatException for an invalid file or one that is not a llama model
     * @throws dev.securetag.core.UnsupportedFormatException for architectures, tokenizers or tensor types the
     *     runtime does not run
     */
    public GgufModel build() {
      if (file == null) {
        throw new IllegalStateException("GgufModel.ggufFile is required");
      }
      if (!Float.isFinite(adapterScale)) {
        throw new IllegalArgumentException("GgufModel.adapterScale must be finite, got " + adapterScale);
      }
      if (threads != null && threads < 1) {
        throw new IllegalArgumentException("GgufModel.threads must be >= 1, got " + threads);
      }
      if (contextLength != null && contextLength < 1) {
        throw new IllegalArgumentException("GgufModel.contextLength must be >= 1, got " + contextLength);
      }
      return new GgufModel(this);
    }
  }

  /** The GGUF file this model was loaded from. */
  public Path ggufFile() {
    return file;
  }

  /**
   * Old name of {@link #ggufFile()}.
   *
   * @deprecated use {@link #ggufFile()}
   */
  @Deprecated
  public Path file() {
    return file;
  }

  /** {@code general.name}, else the file name without extension. */
  public String name() {
    return reader.get("general.name").map(GgufValue::asString)
        .orElse(file.getFileName().toString().replaceFirst("\\.gguf$", ""));
  }

  /** The GGUF metadata of the model file. */
  public Map<String, GgufValue> metadata() {
    return reader.metadata();
  }

  public String architecture() {
    return config.architecture();
  }

  /** Positions per sequence of this runtime. */
  public int contextLength() {
    return contextLength;
  }

  public int vocabSize() {
    return config.vocabSize();
  }

  public int embeddingLength() {
    return config.dim();
  }

  public int layerCount() {
    return config.layers();
  }

  public long parameterCount() {
    return weights.parameterCount();
  }

  /** The type holding most of the layer weights, e.g. {@code Q4_K} for a Q4_K_M file. */
  public GgmlType weightType() {
    return weights.dominantType();
  }

  /** Bytes of weights read to decode one token (every matrix once): the basis of bandwidth estimates. */
  public long weightBytesPerToken() {
    return weights.bytesPerToken(config.experts(), config.expertsUsed());
  }

  /** The Jinja chat template stored in the file, if any. */
  public Optional<String> chatTemplate() {
    return Optional.ofNullable(chatTemplate);
  }

  /** The worker threads used for matrix products. */
  public int threads() {
    return parallel.threads();
  }

  /** Tokenizes like {@code llama_tokenize(add_special = true, parse_special = false)}: BOS first if the model wants it. */
  public int[] tokenize(String text) {
    return tokenize(text, true, false);
  }

  /** Tokenizes with explicit {@code add_special} / {@code parse_special} flags. */
  public int[] tokenize(String text, boolean addSpecial, boolean parseSpecial) {
    ensureOpen();
    return tokenizer.encode(Objects.requireNonNull(text, "text"), addSpecial, parseSpecial);
  }

  /** Text of a token sequence; control tokens render as nothing, byte tokens are reassembled into UTF-8. */
  public String detokenize(int... ids) {
    ensureOpen();
    return tokenizer.decode(ids);
  }

  /** The vocabulary entry of a token (with U+2581 for spaces, {@code <0xNN>} for byte tokens). */
  public String tokenText(int id) {
    ensureOpen();
    if (id < 0 || id >= tokenizer.vocabSize()) {
      throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + tokenizer.vocabSize());
    }
    return tokenizer.token(id);
  }

  /** True for EOS and the other end-of-turn tokens that stop generation. */
  public boolean isEndOfGeneration(int id) {
    return tokenizer.isEndOfGeneration(id);
  }

  /** A fresh sequence with a KV cache of {@link #contextLength()} positions. */
  public GgufSession newSession() {
    ensureOpen();
    return new GgufSession(this, transformer, contextLength);
  }

  /** Tokens of a chat prompt in the given format, ending where the assistant's answer begins. */
  public int[] chatTokens(List<ChatMessage> messages, PromptFormat format) {
    ensureOpen();
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("no messages");
    }
    return PromptRenderer.tokens(tokenizer, format, chatTemplate, messages);
  }

  /** Completes {@code prompt} as plain text (BOS added, no chat template). */
  public GenerationResult generate(String prompt, GenerationOptions options) {
    return generate(tokenize(prompt), options, TokenListener.NONE);
  }

  /** Completes {@code prompt} as plain text, streaming text to {@code listener}. */
  public GenerationResult generate(String prompt, GenerationOptions options, TokenListener listener) {
    return generate(tokenize(prompt), options, listener);
  }

  /** Answers a conversation, rendered with {@code format}. */
  public GenerationResult chat(List<ChatMessage> messages, PromptFormat format, GenerationOptions options,
      TokenListener listener) {
    return generate(chatTokens(messages, format), options, listener);
  }

  /**
   * Generates after {@code promptTokens}: samples until an end-of-generation token, a stop sequence, the token
   * budget or the end of the context.
   *
   * @throws InvalidInputException when the prompt does not fit the context
   */
  public GenerationResult generate(int[] promptTokens, GenerationOptions options, TokenListener listener) {
    ensureOpen();
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(listener, "listener");
    if (promptTokens.length == 0) {
      throw new IllegalArgumentException("empty prompt");
    }
    if (promptTokens.length >= contextLength) {
      throw new InvalidInputException("prompt", "prompt of " + promptTokens.length
          + " tokens does not fit the context of " + contextLength + " tokens");
    }
    long seed = options.seed().orElseGet(() -> ThreadLocalRandom.current().nextLong());
    Sampler sampler = new Sampler(options.temperature(), options.topP(), options.topK(), options.minP(), seed);
    TextStream text = new TextStream(options.stop());
    List<Integer> out = new ArrayList<>();
    GenerationResult.DoneReason reason = GenerationResult.DoneReason.LENGTH;
    try (GgufSession s = newSession()) {
      long t0 = System.nanoTime();
      float[] logits = s.eval(promptTokens);
      long t1 = System.nanoTime();
      while (true) {
        if (options.maxTokens() > 0 && out.size() >= options.maxTokens()) {
          break;
        }
        int tok = sampler.sample(logits);
        if (tokenizer.isEndOfGeneration(tok)) {
          reason = GenerationResult.DoneReason.STOP;
          break;
        }
        out.add(tok);
        String piece = text.push(tokenizer.pieceBytes(tok));
        listener.onToken(tok, piece);
        if (text.stopped()) {
          reason = GenerationResult.DoneReason.STOP;
          break;
        }
        if (s.position() >= s.capacity()) {
          break;
        }
        logits = s.eval(tok);
      }
      String rest = text.flush();
      if (!rest.isEmpty()) {
        listener.onToken(-1, rest);
      }
      long t2 = System.nanoTime();
      return new GenerationResult(text.text(), out, promptTokens.length, reason, t1 - t0, t2 - t1);
    }
  }

  /** This model as an in-process {@link LlmClient} that renders requests with {@code format}. */
  public LlmClient asLlmClient(String modelName, PromptFormat format) {
    return new LocalLlmClient(this, modelName, format);
  }

  void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("GgufModel " + file + " is closed");
    }
  }

  /** Stops the worker threads and releases the file; idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    parallel.close();
    reader.close();
    if (adapterReader != null) {
      adapterReader.close();
    }
  }

  @Override
  public String toString() {
    return "GgufModel[" + file.getFileName() + ", " + config.layers() + " layers, " + weightType() + "]";
  }
}

package dev.securetag.testing;

import dev.securetag.core.HfConfig.Architecture;
import dev.securetag.core.HfConfig;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.SafetensorsWriter;
import dev.securetag.core.internal.AtomicFiles;
import dev.securetag.core.internal.Json;
import dev.securetag.testing.internal.BpeTokenizerBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes a random-initialised checkpoint in the Hugging Face layout (config.json, model.safetensors,
 * generation_config.json, tokenizer.json trained here plus the same vocabulary as a SentencePiece tokenizer.model,
 * tokenizer_config.json, special_tokens_map.json): the embedded
 * default base model for tests, examples and demos, since nothing can be downloaded. It writes files only (with
 * securetag-core's {@code SafetensorsWriter}), so any module's tests can use it; load the result with
 * {@code LlamaModel.load} (securetag-train) or convert it with {@code GgufQuantizer} (securetag-gguf). Weights: embeddings N(0, 1), every
 * decoder linear weight [out, in] N(0, 1/in), lm_head N(0, 4/in), RMSNorm weights 1.
 *
 * <pre>{@code
 * Path dir = TinyLlamaFactory.builder().hiddenSize(64).layers(2).seed(7).build().writeTo(tmp.resolve("tiny"));
 * }</pre>
 */
public final class TinyLlamaFactory {
  private final HfConfig config;
  private final long seed;
  private final SafetensorsReader.DType dtype;
  private final String corpus;

  private TinyLlamaFactory(HfConfig config, long seed, SafetensorsReader.DType dtype, String corpus) {
    this.config = config;
    this.seed = seed;
    this.dtype = dtype;
    this.corpus = corpus;
  }

  /** A builder preset to a 2-layer, hidden-64 Llama with a 512-token vocabulary. */
  public static Builder builder() {
    return new Builder();
  }

  /** The configuration that will be written. */
  public HfConfig config() {
    return config;
  }

  /** Writes the checkpoint into {@code dir} (created if needed) and returns {@code dir}. */
  public Path writeTo(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
    BpeTokenizerBuilder tok = BpeTokenizerBuilder.train(corpus, config.vocabSize());
    SplittableRandom rng = new SplittableRandom(seed);
    SafetensorsWriter w = new SafetensorsWriter();
    int h = config.hiddenSize();
    int v = config.vocabSize();
    w.addFloats("model.embed_tokens.weight", dtype, new long[] {v, h}, normal(rng, v * h, 1.0));
    int qd = config.numAttentionHeads() * config.headDim();
    int kvd = config.numKeyValueHeads() * config.headDim();
    int inter = config.intermediateSize();
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      String p = "model.layers." + i + ".";
      w.addFloats(p + "input_layernorm.weight", dtype, new long[] {h}, ones(h));
      linear(w, rng, p + "self_attn.q_proj.weight", qd, h);
      linear(w, rng, p + "self_attn.k_proj.weight", kvd, h);
      linear(w, rng, p + "self_attn.v_proj.weight", kvd, h);
      linear(w, rng, p + "self_attn.o_proj.weight", h, qd);
      w.addFloats(p + "post_attention_layernorm.weight", dtype, new long[] {h}, ones(h));
      if (config.isMoe()) {
        String mp = p + "block_sparse_moe.";
        linear(w, rng, mp + "gate.weight", config.numLocalExperts(), h);
        for (int e = 0; e < config.numLocalExperts(); e++) {
          linear(w, rng, mp + "experts." + e + ".w1.weight", inter, h);
          linear(w, rng, mp + "experts." + e + ".w2.weight", h, inter);
          linear(w, rng, mp + "experts." + e + ".w3.weight", inter, h);
        }
      } else {
        linear(w, rng, p + "mlp.gate_proj.weight", inter, h);
        linear(w, rng, p + "mlp.up_proj.weight", inter, h);
        linear(w, rng, p + "mlp.down_proj.weight", h, inter);
      }
    }
    w.addFloats("model.norm.weight", dtype, new long[] {h}, ones(h));
    if (!config.tieWordEmbeddings()) {
      // Twice the 1/sqrt(in) scale: RMSNorm bounds the final hidden state, and with unit-scale rows even a perfectly
      // aligned state could not push one token's probability much past 0.8 among hundreds, so fine-tuning the
      // adapters could never fit data closely.
      w.addFloats("lm_head.weight", dtype, new long[] {v, h}, normal(rng, v * h, 2.0 / Math.sqrt(h)));
    }
    w.write(dir.resolve("model.safetensors"));
    AtomicFiles.writeString(dir.resolve("config.json"), config.toJson());
    AtomicFiles.writeString(dir.resolve("generation_config.json"),
        "{\n  \"bos_token_id\": " + config.bosTokenId() + ",\n  \"eos_token_id\": " + config.eosTokenIds().get(0)
            + "\n}\n");
    AtomicFiles.writeString(dir.resolve("tokenizer.json"), tok.tokenizerJson());
    AtomicFiles.write(dir.resolve("tokenizer.model"), tok.sentencePieceModel());
    AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), tok.tokenizerConfigJson(config.maxPositionEmbeddings()));
    var special = Json.object();
    special.put("bos_token", "<s>");
    special.put("eos_token", "</s>");
    special.put("unk_token", "<unk>");
    AtomicFiles.writeString(dir.resolve("special_tokens_map.json"), Json.write(special));
    return dir;
  }

  private void linear(SafetensorsWriter w, SplittableRandom rng, String name, int out, int in) {
    w.addFloats(name, dtype, new long[] {out, in}, normal(rng, out * in, 1.0 / Math.sqrt(in)));
  }

  private static float[] normal(SplittableRandom rng, int n, double std) {
    float[] a = new float[n];
    for (int i = 0; i < n; i += 2) {
      // Box-Muller: two independent normals per pair of uniforms, deterministic for a seed.
      double u1 = 1.0 - rng.nextDouble();
      double u2 = rng.nextDouble();
      double r = Math.sqrt(-2 * Math.log(u1));
      a[i] = (float) (r * Math.cos(2 * Math.PI * u2) * std);
      if (i + 1 < n) {
        a[i + 1] = (float) (r * Math.sin(2 * Math.PI * u2) * std);
      }
    }
    return a;
  }

  private static float[] ones(int n) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, 1f);
    return a;
  }

  /** The built-in tokenizer training text (instruction template and security vocabulary). */
  public static String defaultCorpus() {
    try (InputStream in = TinyLlamaFactory.class.getResourceAsStream("/dev/securetag/testing/tokenizer-corpus.txt")) {
      if (in == null) {
        throw new IllegalStateException("tokenizer-corpus.txt missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the built-in tokenizer corpus", e);
    }
  }

  /** Builds a {@link TinyLlamaFactory}; every setter has a small default. */
  public static final class Builder {
    private Architecture architecture = Architecture.LLAMA;
    private int hidden = 64;
    private int layers = 2;
    private int heads = 4;
    private int kvHeads = 2;
    private int intermediate = 256;
    private int vocab = 512;
    private int maxPositions = 512;
    private int experts = 4;
    private int expertsPerToken = 2;
    private Integer slidingWindow;
    private boolean tie;
    private double ropeTheta = 10000.0;
    private long seed = 42;
    private SafetensorsReader.DType dtype = SafetensorsReader.DType.F32;
    private String corpus;

    private Builder() {}

    public Builder architecture(Architecture a) {
      this.architecture = a;
      return this;
    }

    public Builder hiddenSize(int v) {
      this.hidden = v;
      return this;
    }

    public Builder layers(int v) {
      this.layers = v;
      return this;
    }

    public Builder heads(int v) {
      this.heads = v;
      return this;
    }

    public Builder kvHeads(int v) {
      this.kvHeads = v;
      return this;
    }

    public Builder intermediateSize(int v) {
      this.intermediate = v;
      return this;
    }

    /** Vocabulary size (at least 355: specials, 256 bytes and printable ASCII). */
    public Builder vocabSize(int v) {
      this.vocab = v;
      return this;
    }

    public Builder maxPositions(int v) {
      this.maxPositions = v;
      return this;
    }

    /** Experts and experts per token (Mixtral only). */
    public Builder experts(int total, int perToken) {
      this.experts = total;
      this.expertsPerToken = perToken;
      return this;
    }

    /** Sliding attention window (Mistral/Mixtral). */
    public Builder slidingWindow(int v) {
      this.slidingWindow = v;
      return this;
    }

    public Builder tieWordEmbeddings(boolean v) {
      this.tie = v;
      return this;
    }

    public Builder ropeTheta(double v) {
      this.ropeTheta = v;
      return this;
    }

    public Builder seed(long v) {
      this.seed = v;
      return this;
    }

    /** Storage dtype of the weights (F32, F16 or BF16). */
    public Builder dtype(SafetensorsReader.DType v) {
      this.dtype = v;
      return this;
    }

    /** Text the tokenizer is trained on; defaults to {@link #defaultCorpus()}. */
    public Builder corpus(String text) {
      this.corpus = text;
      return this;
    }

    /** About 20 M parameters: hidden 384, 8 layers, 6 heads (2 KV), intermediate 1536, vocabulary 4096. */
    public Builder preset20M() {
      return hiddenSize(384).layers(8).heads(6).kvHeads(2).intermediateSize(1536).vocabSize(4096).maxPositions(1024);
    }

    /**
     * Builds the factory.
     *
     * @throws IllegalArgumentException naming the setting when one is out of range
     * @throws dev.securetag.core.InvalidInputException when the shapes do not fit together (e.g. KV heads that do not
     *     divide the heads), naming the config.json field
     */
    public TinyLlamaFactory build() {
      if (dtype != SafetensorsReader.DType.F32 && dtype != SafetensorsReader.DType.F16
          && dtype != SafetensorsReader.DType.BF16) {
        throw new IllegalArgumentException("TinyLlamaFactory.dtype must be F32, F16 or BF16, was " + dtype);
      }
      if (architecture == null) {
        throw new IllegalArgumentException("TinyLlamaFactory.architecture must not be null");
      }
      HfConfig.Builder b = HfConfig.builder().architecture(architecture).vocabSize(vocab).hiddenSize(hidden)
          .intermediateSize(intermediate).numHiddenLayers(layers).numAttentionHeads(heads).numKeyValueHeads(kvHeads)
          .rmsNormEps(1e-5).ropeTheta(ropeTheta).maxPositionEmbeddings(maxPositions).tieWordEmbeddings(tie)
          .bosTokenId(1).addEosTokenId(2).torchDtype(switch (dtype) {
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> "float32";
          });
      if (architecture == Architecture.MIXTRAL) {
        b.numLocalExperts(experts).numExpertsPerTok(expertsPerToken);
      }
      if (slidingWindow != null) {
        if (architecture == Architecture.LLAMA) {
          throw new IllegalArgumentException("sliding windows exist for MISTRAL and MIXTRAL, not LLAMA");
        }
        b.slidingWindow(slidingWindow);
      }
      return new TinyLlamaFactory(b.build(), seed, dtype, corpus == null ? defaultCorpus() : corpus);
    }
  }
}

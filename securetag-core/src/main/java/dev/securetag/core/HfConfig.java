package dev.securetag.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.immutables.value.Value;

/**
 * The hyper-parameters of a Llama, Mistral or Mixtral checkpoint as Hugging Face {@code config.json} states them, read
 * one way for every module (the trainer and the GGUF converter): transformers v4 and v5 spellings
 * ({@code rope_theta} or {@code rope_parameters.rope_theta}, {@code torch_dtype} or {@code dtype}), and transformers'
 * own defaults for optional fields ({@code rms_norm_eps}, {@code rope_theta} and {@code max_position_embeddings} per
 * architecture). Errors name the file and field. The parser accepts everything the family defines (biases, YaRN
 * scaling, activations); each consumer refuses what it cannot compute.
 */
@Value.Immutable
@SecuretagStyle
public interface HfConfig {

  /** The decoder families securetag reads, with their Hugging Face class, {@code model_type} and defaults. */
  enum Architecture {
    /** Dense Llama (LlamaForCausalLM). */
    LLAMA("LlamaForCausalLM", "llama", 1e-6, 10000.0, 2048),
    /** Dense Mistral (MistralForCausalLM), optionally with a sliding attention window. */
    MISTRAL("MistralForCausalLM", "mistral", 1e-6, 10000.0, 4096 * 32),
    /** Sparse mixture of experts (MixtralForCausalLM) with a top-k router. */
    MIXTRAL("MixtralForCausalLM", "mixtral", 1e-5, 1e6, 4096 * 32);

    private final String hfClass;
    private final String modelType;
    private final double defaultRmsNormEps;
    private final double defaultRopeTheta;
    private final int defaultMaxPositions;

    Architecture(String hfClass, String modelType, double eps, double theta, int positions) {
      this.hfClass = hfClass;
      this.modelType = modelType;
      this.defaultRmsNormEps = eps;
      this.defaultRopeTheta = theta;
      this.defaultMaxPositions = positions;
    }

    /** The {@code architectures[0]} value in config.json. */
    public String hfClass() {
      return hfClass;
    }

    /** The {@code model_type} value in config.json. */
    public String modelType() {
      return modelType;
    }

    /** transformers' default {@code rms_norm_eps} for this family. */
    public double defaultRmsNormEps() {
      return defaultRmsNormEps;
    }

    /** transformers' default {@code rope_theta} for this family. */
    public double defaultRopeTheta() {
      return defaultRopeTheta;
    }

    /** transformers' default {@code max_position_embeddings} for this family. */
    public int defaultMaxPositionEmbeddings() {
      return defaultMaxPositions;
    }
  }

  /**
   * RoPE frequency scaling ({@code rope_scaling}, or the v5 {@code rope_parameters}): {@code linear}, {@code llama3},
   * {@code yarn} or {@code dynamic}, with the fields those types use (defaults as transformers has them).
   */
  record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
      int originalMaxPositionEmbeddings) {}

  Architecture architecture();

  int vocabSize();

  int hiddenSize();

  int intermediateSize();

  int numHiddenLayers();

  int numAttentionHeads();

  /** GQA key/value heads; equals {@link #numAttentionHeads()} when config.json omits it. */
  @Value.Default
  default int numKeyValueHeads() {
    return numAttentionHeads();
  }

  /** {@code head_dim} when config.json states it (the GGUF converter copies only a stated one, as llama.cpp does). */
  OptionalInt explicitHeadDim();

  /** Width of one attention head: {@code head_dim}, else {@code hidden_size / num_attention_heads}. */
  @Value.Derived
  default int headDim() {
    return explicitHeadDim().orElse(numAttentionHeads() > 0 ? hiddenSize() / numAttentionHeads() : 0);
  }

  /** {@code rms_norm_eps}; the family's transformers default when absent. */
  @Value.Default
  default double rmsNormEps() {
    return architecture().defaultRmsNormEps();
  }

  /** {@code rope_theta} (v4) or {@code rope_parameters.rope_theta} (v5); the family's default when absent. */
  @Value.Default
  default double ropeTheta() {
    return architecture().defaultRopeTheta();
  }

  /** Frequency scaling, when config.json asks for one other than {@code default}. */
  Optional<RopeScaling> ropeScaling();

  @Value.Default
  default int maxPositionEmbeddings() {
    return architecture().defaultMaxPositionEmbeddings();
  }

  @Value.Default
  default boolean tieWordEmbeddings() {
    return false;
  }

  /** Mistral's sliding attention window; empty means full causal attention (always empty for Llama). */
  OptionalInt slidingWindow();

  /** Experts per MoE layer (Mixtral only; 0 for dense models). */
  @Value.Default
  default int numLocalExperts() {
    return 0;
  }

  /** Experts each token is routed to (Mixtral only). */
  @Value.Default
  default int numExpertsPerTok() {
    return 0;
  }

  /** {@code hidden_act} (default {@code silu}). */
  @Value.Default
  default String hiddenAct() {
    return "silu";
  }

  /** {@code attention_bias}: q/k/v/o projections carry biases. */
  @Value.Default
  default boolean attentionBias() {
    return false;
  }

  /** {@code mlp_bias}: gate/up/down projections carry biases. */
  @Value.Default
  default boolean mlpBias() {
    return false;
  }

  @Value.Default
  default int bosTokenId() {
    return 1;
  }

  /** End-of-sequence ids (a list since Llama-3); {@code [2]} when config.json names none. */
  List<Integer> eosTokenIds();

  OptionalInt padTokenId();

  /** Storage dtype named in config.json ({@code torch_dtype} / {@code dtype}), e.g. {@code float32}. */
  @Value.Default
  default String torchDtype() {
    return "float32";
  }

  /** Whether the decoder MLP is a mixture of experts. */
  @Value.Derived
  default boolean isMoe() {
    return architecture() == Architecture.MIXTRAL;
  }

  /** Checks the relations between fields; {@code location} prefixes the field in the error. */
  private void validate(String location) {
    require(vocabSize() > 0, location, "vocab_size", "must be > 0");
    require(hiddenSize() > 0, location, "hidden_size", "must be > 0");
    require(intermediateSize() > 0, location, "intermediate_size", "must be > 0");
    require(numHiddenLayers() > 0, location, "num_hidden_layers", "must be > 0");
    require(numAttentionHeads() > 0, location, "num_attention_heads", "must be > 0");
    require(explicitHeadDim().isPresent() || hiddenSize() % numAttentionHeads() == 0, location,
        "num_attention_heads", "must divide hidden_size " + hiddenSize() + " when head_dim is not given, was "
            + numAttentionHeads());
    require(numKeyValueHeads() > 0 && numAttentionHeads() % numKeyValueHeads() == 0, location, "num_key_value_heads",
        "must divide num_attention_heads (" + numAttentionHeads() + "), was " + numKeyValueHeads());
    require(headDim() > 0 && headDim() % 2 == 0, location, "head_dim", "must be even and > 0, was " + headDim());
    require(rmsNormEps() > 0, location, "rms_norm_eps", "must be > 0");
    require(ropeTheta() > 0, location, "rope_theta", "must be > 0");
    require(maxPositionEmbeddings() > 0, location, "max_position_embeddings", "must be > 0");
    if (isMoe()) {
      require(numLocalExperts() > 0, location, "num_local_experts", "must be > 0 for Mixtral");
      require(numExpertsPerTok() > 0 && numExpertsPerTok() <= numLocalExperts(), location, "num_experts_per_tok",
          "must be in [1, num_local_experts]");
    }
    require(!eosTokenIds().isEmpty(), location, "eos_token_id", "must name at least one token");
  }

  private static void require(boolean ok, String location, String field, String msg) {
    if (!ok) {
      throw new InvalidInputException(location + ": " + field, field + " " + msg);
    }
  }

  /** Reads {@code dir/config.json} (or a config.json file). */
  static HfConfig load(Path dirOrFile) {
    Path f = Files.isDirectory(dirOrFile) ? dirOrFile.resolve("config.json") : dirOrFile;
    if (!Files.exists(f)) {
      throw new InvalidInputException(f.toString(), "config.json not found");
    }
    try {
      return parse(Files.readString(f, StandardCharsets.UTF_8), f.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f, e);
    }
  }

  /**
   * Parses config.json text; {@code location} (usually the file) prefixes error messages.
   *
   * @throws InvalidInputException naming the field when one is missing, of the wrong type or inconsistent
   * @throws UnsupportedFormatException for an architecture other than Llama, Mistral or Mixtral, or an unknown RoPE
   *     scaling type
   */
  static HfConfig parse(String json, String location) {
    JsonNode root = Json.readTree(json, location);
    if (root == null || !root.isObject()) {
      throw new InvalidInputException(location, "config.json must be a JSON object");
    }
    Architecture arch = architectureOf(root, location);
    Builder b = builder().architecture(arch);
    b.vocabSize(requiredInt(root, "vocab_size", location));
    b.hiddenSize(requiredInt(root, "hidden_size", location));
    b.intermediateSize(requiredInt(root, "intermediate_size", location));
    b.numHiddenLayers(requiredInt(root, "num_hidden_layers", location));
    b.numAttentionHeads(requiredInt(root, "num_attention_heads", location));
    optInt(root, "num_key_value_heads", location).ifPresent(b::numKeyValueHeads);
    optInt(root, "head_dim", location).ifPresent(b::explicitHeadDim);
    optDouble(root, "rms_norm_eps", location).ifPresent(b::rmsNormEps);
    JsonNode ropeParams = root.get("rope_parameters");
    if (ropeParams != null && ropeParams.isObject()) {
      optDouble(ropeParams, "rope_theta", location + ": rope_parameters").ifPresent(b::ropeTheta);
    }
    optDouble(root, "rope_theta", location).ifPresent(b::ropeTheta);
    JsonNode scaling = root.get("rope_scaling");
    if (scaling == null || scaling.isNull()) {
      scaling = ropeParams;
    }
    ropeScalingOf(scaling, location).ifPresent(b::ropeScaling);
    optInt(root, "max_position_embeddings", location).ifPresent(b::maxPositionEmbeddings);
    optBoolean(root, "tie_word_embeddings", location).ifPresent(b::tieWordEmbeddings);
    if (arch != Architecture.LLAMA) {
      optInt(root, "sliding_window", location).ifPresent(w -> b.slidingWindow(w));
    }
    if (arch == Architecture.MIXTRAL) {
      b.numLocalExperts(requiredInt(root, "num_local_experts", location));
      b.numExpertsPerTok(requiredInt(root, "num_experts_per_tok", location));
    }
    JsonNode act = root.get("hidden_act");
    if (act != null && !act.isNull()) {
      b.hiddenAct(act.asText());
    }
    optBoolean(root, "attention_bias", location).ifPresent(b::attentionBias);
    optBoolean(root, "mlp_bias", location).ifPresent(b::mlpBias);
    optInt(root, "bos_token_id", location).ifPresent(b::bosTokenId);
    JsonNode eos = root.get("eos_token_id");
    if (eos == null || eos.isNull()) {
      b.addEosTokenId(2);
    } else if (eos.isArray()) {
      for (JsonNode e : eos) {
        if (!e.canConvertToInt()) {
          throw new InvalidInputException(location + ": eos_token_id", "eos_token_id entries must be integers");
        }
        b.addEosTokenId(e.asInt());
      }
    } else if (eos.canConvertToInt()) {
      b.addEosTokenId(eos.asInt());
    } else {
      throw new InvalidInputException(location + ": eos_token_id", "eos_token_id must be an integer or a list");
    }
    optInt(root, "pad_token_id", location).ifPresent(p -> b.padTokenId(p));
    JsonNode dtype = root.has("torch_dtype") ? root.get("torch_dtype") : root.get("dtype");
    if (dtype != null && dtype.isTextual()) {
      b.torchDtype(dtype.asText());
    }
    HfConfig c = b.buildUnvalidated();
    c.validate(location);
    return c;
  }

  /** This configuration as Hugging Face config.json (what {@link #parse} reads back equal). */
  default String toJson() {
    ObjectNode o = Json.object();
    o.putArray("architectures").add(architecture().hfClass());
    o.put("model_type", architecture().modelType());
    o.put("vocab_size", vocabSize());
    o.put("hidden_size", hiddenSize());
    o.put("intermediate_size", intermediateSize());
    o.put("num_hidden_layers", numHiddenLayers());
    o.put("num_attention_heads", numAttentionHeads());
    o.put("num_key_value_heads", numKeyValueHeads());
    explicitHeadDim().ifPresent(d -> o.put("head_dim", d));
    o.put("hidden_act", hiddenAct());
    o.put("rms_norm_eps", rmsNormEps());
    o.put("rope_theta", ropeTheta());
    ropeScaling().ifPresentOrElse(r -> {
      ObjectNode s = o.putObject("rope_scaling");
      s.put("rope_type", r.type());
      s.put("factor", r.factor());
      s.put("low_freq_factor", r.lowFreqFactor());
      s.put("high_freq_factor", r.highFreqFactor());
      s.put("original_max_position_embeddings", r.originalMaxPositionEmbeddings());
    }, () -> o.putNull("rope_scaling"));
    o.put("max_position_embeddings", maxPositionEmbeddings());
    o.put("tie_word_embeddings", tieWordEmbeddings());
    o.put("attention_bias", attentionBias());
    o.put("mlp_bias", mlpBias());
    if (architecture() != Architecture.LLAMA) {
      if (slidingWindow().isPresent()) {
        o.put("sliding_window", slidingWindow().getAsInt());
      } else {
        o.putNull("sliding_window");
      }
    }
    if (isMoe()) {
      o.put("num_local_experts", numLocalExperts());
      o.put("num_experts_per_tok", numExpertsPerTok());
      o.put("router_aux_loss_coef", 0.02);
      o.put("output_router_logits", false);
    }
    o.put("bos_token_id", bosTokenId());
    if (eosTokenIds().size() == 1) {
      o.put("eos_token_id", eosTokenIds().get(0));
    } else {
      ArrayNode a = o.putArray("eos_token_id");
      eosTokenIds().forEach(a::add);
    }
    padTokenId().ifPresent(p -> o.put("pad_token_id", p));
    o.put("torch_dtype", torchDtype());
    o.put("use_cache", true);
    return Json.write(o);
  }

  /** Parameters of the whole model (embeddings, all layers, norms and an untied lm_head; no biases). */
  default long parameterCount() {
    long h = hiddenSize();
    long attn = h * (long) numAttentionHeads() * headDim() * 2 + h * (long) numKeyValueHeads() * headDim() * 2;
    long mlpOne = 3L * h * intermediateSize();
    long mlp = isMoe() ? numLocalExperts() * mlpOne + (long) numLocalExperts() * h : mlpOne;
    long perLayer = attn + mlp + 2 * h;
    long emb = (long) vocabSize() * h;
    return emb * (tieWordEmbeddings() ? 1 : 2) + numHiddenLayers() * perLayer + h;
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds an {@link HfConfig}; {@link #build()} checks the fields' relations. */
  final class Builder extends ImmutableHfConfig.Builder {
    /**
     * Builds and checks the fields' relations.
     *
     * @throws InvalidInputException naming the field ({@code config.json: <field>}) when they are inconsistent
     */
    @Override
    public HfConfig build() {
      HfConfig c = super.build();
      c.validate("config.json");
      return c;
    }

    /** Builds without the check, so {@link HfConfig#parse} can run it with the file's name in its errors. */
    HfConfig buildUnvalidated() {
      return super.build();
    }
  }

  private static Architecture architectureOf(JsonNode root, String location) {
    JsonNode archs = root.get("architectures");
    String cls = archs != null && archs.isArray() && archs.size() > 0 ? archs.get(0).asText() : null;
    String type = root.has("model_type") ? root.get("model_type").asText() : null;
    for (Architecture a : Architecture.values()) {
      if (a.hfClass().equals(cls) || (cls == null && a.modelType().equals(type))) {
        return a;
      }
    }
    if (cls == null && type == null) {
      throw new InvalidInputException(location + ": architectures", "missing architectures and model_type");
    }
    throw new UnsupportedFormatException(location + ": architectures",
        "unsupported architecture " + (cls != null ? cls : type) + " (LlamaForCausalLM, MistralForCausalLM, "
            + "MixtralForCausalLM)");
  }

  private static Optional<RopeScaling> ropeScalingOf(JsonNode s, String location) {
    if (s == null || s.isNull() || !s.isObject()) {
      return Optional.empty();
    }
    String type = s.has("rope_type") ? s.get("rope_type").asText() : s.path("type").asText("default");
    switch (type) {
      case "default":
        return Optional.empty();
      case "llama3":
      case "linear":
      case "yarn":
      case "dynamic":
        if (!s.path("factor").isNumber()) {
          throw new InvalidInputException(location + ": rope_scaling.factor",
              "rope_scaling.factor is required for rope_type " + type);
        }
        return Optional.of(new RopeScaling(type, s.get("factor").asDouble(), s.path("low_freq_factor").asDouble(1),
            s.path("high_freq_factor").asDouble(4), s.path("original_max_position_embeddings").asInt(8192)));
      default:
        throw new UnsupportedFormatException(location + ": rope_scaling.rope_type",
            "unsupported RoPE scaling '" + type + "' (default, linear, llama3, yarn, dynamic)");
    }
  }

  private static int requiredInt(JsonNode root, String field, String location) {
    return optInt(root, field, location).orElseThrow(
        () -> new InvalidInputException(location + ": " + field, "missing required field " + field));
  }

  private static OptionalInt optInt(JsonNode root, String field, String location) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return OptionalInt.empty();
    }
    if (!n.isIntegralNumber() || !n.canConvertToInt()) {
      throw new InvalidInputException(location + ": " + field, field + " must be an integer, was " + n);
    }
    return OptionalInt.of(n.asInt());
  }

  private static OptionalDouble optDouble(JsonNode root, String field, String location) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return OptionalDouble.empty();
    }
    if (!n.isNumber()) {
      throw new InvalidInputException(location + ": " + field, field + " must be a number, was " + n);
    }
    return OptionalDouble.of(n.asDouble());
  }

  private static Optional<Boolean> optBoolean(JsonNode root, String field, String location) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return Optional.empty();
    }
    if (!n.isBoolean()) {
      throw new InvalidInputException(location + ": " + field, field + " must be a boolean, was " + n);
    }
    return Optional.of(n.asBoolean());
  }
}

package dev.securetag.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.Json;
import dev.securetag.core.SecuretagStyle;
import dev.securetag.core.UnsupportedFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.immutables.value.Value;

/**
 * The hyper-parameters of a Llama, Mistral or Mixtral checkpoint as read from Hugging Face {@code config.json}
 * (transformers v4 and v5 spellings). {@link #load(Path)} fails with an error naming the offending field.
 */
@Value.Immutable
@SecuretagStyle
public interface LlamaConfig {

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

  @Value.Default
  default int headDim() {
    return hiddenSize() / numAttentionHeads();
  }

  @Value.Default
  default double rmsNormEps() {
    return 1e-6;
  }

  @Value.Default
  default double ropeTheta() {
    return 10000.0;
  }

  /** Llama-3.1 style {@code rope_scaling}, when present. */
  Optional<RopeScaling> ropeScaling();

  @Value.Default
  default int maxPositionEmbeddings() {
    return 2048;
  }

  @Value.Default
  default boolean tieWordEmbeddings() {
    return false;
  }

  /** Mistral's sliding attention window; empty means full causal attention. */
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

  @Value.Default
  default int bosTokenId() {
    return 1;
  }

  /** End-of-sequence ids (a list since Llama-3). */
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

  @Value.Check
  default void check() {
    require(vocabSize() > 0, "vocab_size", "must be > 0");
    require(hiddenSize() > 0, "hidden_size", "must be > 0");
    require(intermediateSize() > 0, "intermediate_size", "must be > 0");
    require(numHiddenLayers() > 0, "num_hidden_layers", "must be > 0");
    require(numAttentionHeads() > 0, "num_attention_heads", "must be > 0");
    require(numKeyValueHeads() > 0 && numAttentionHeads() % numKeyValueHeads() == 0, "num_key_value_heads",
        "must divide num_attention_heads (" + numAttentionHeads() + "), was " + numKeyValueHeads());
    require(headDim() > 0 && headDim() % 2 == 0, "head_dim", "must be even and > 0, was " + headDim());
    require(rmsNormEps() > 0, "rms_norm_eps", "must be > 0");
    require(ropeTheta() > 0, "rope_theta", "must be > 0");
    if (isMoe()) {
      require(numLocalExperts() > 0, "num_local_experts", "must be > 0 for Mixtral");
      require(numExpertsPerTok() > 0 && numExpertsPerTok() <= numLocalExperts(), "num_experts_per_tok",
          "must be in [1, num_local_experts]");
    }
    require(!eosTokenIds().isEmpty(), "eos_token_id", "must name at least one token");
  }

  private static void require(boolean ok, String field, String msg) {
    if (!ok) {
      throw new InvalidInputException("config.json: " + field, field + " " + msg);
    }
  }

  /** Llama-3.1 ({@code rope_type: llama3}) or linear RoPE frequency scaling. */
  record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
      int originalMaxPositionEmbeddings) {}

  /** Reads {@code dir/config.json} (or a config.json file). */
  static LlamaConfig load(Path dirOrFile) {
    Path f = java.nio.file.Files.isDirectory(dirOrFile) ? dirOrFile.resolve("config.json") : dirOrFile;
    if (!Files.exists(f)) {
      throw new InvalidInputException(f.toString(), "config.json not found");
    }
    try {
      return parse(Files.readString(f, StandardCharsets.UTF_8), f.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f, e);
    }
  }

  /** Parses config.json text; {@code location} prefixes error messages. */
  static LlamaConfig parse(String json, String location) {
    JsonNode root = Json.readTree(json, location);
    if (!root.isObject()) {
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
    optInt(root, "head_dim", location).ifPresent(b::headDim);
    optDouble(root, "rms_norm_eps", location).ifPresent(b::rmsNormEps);
    JsonNode ropeParams = root.get("rope_parameters");
    if (ropeParams != null && ropeParams.isObject() && ropeParams.has("rope_theta")) {
      b.ropeTheta(ropeParams.get("rope_theta").asDouble());
    }
    optDouble(root, "rope_theta", location).ifPresent(b::ropeTheta);
    JsonNode scaling = root.get("rope_scaling");
    if (scaling == null || scaling.isNull()) {
      scaling = ropeParams;
    }
    ropeScalingOf(scaling, location).ifPresent(b::ropeScaling);
    optInt(root, "max_position_embeddings", location).ifPresent(b::maxPositionEmbeddings);
    JsonNode tie = root.get("tie_word_embeddings");
    if (tie != null && !tie.isNull()) {
      if (!tie.isBoolean()) {
        throw new InvalidInputException(location + ": tie_word_embeddings", "tie_word_embeddings must be a boolean");
      }
      b.tieWordEmbeddings(tie.asBoolean());
    }
    if (arch != Architecture.LLAMA) {
      optInt(root, "sliding_window", location).ifPresent(w -> b.slidingWindow(w));
    }
    if (arch == Architecture.MIXTRAL) {
      b.numLocalExperts(requiredInt(root, "num_local_experts", location));
      b.numExpertsPerTok(requiredInt(root, "num_experts_per_tok", location));
    }
    JsonNode act = root.get("hidden_act");
    if (act != null && !act.isNull() && !act.asText().equals("silu")) {
      throw new UnsupportedFormatException(location + ": hidden_act", "only silu is supported, was " + act.asText());
    }
    for (String biasField : List.of("attention_bias", "mlp_bias")) {
      JsonNode bias = root.get(biasField);
      if (bias != null && bias.asBoolean(false)) {
        throw new UnsupportedFormatException(location + ": " + biasField, biasField + "=true is not supported");
      }
    }
    optInt(root, "bos_token_id", location).ifPresent(b::bosTokenId);
    JsonNode eos = root.get("eos_token_id");
    if (eos == null || eos.isNull()) {
      b.addEosTokenId(2);
    } else if (eos.isArray()) {
      for (JsonNode e : eos) {
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
    return b.build();
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
        if (!s.has("factor")) {
          throw new InvalidInputException(location + ": rope_scaling.factor", "rope_scaling.factor is required");
        }
        return Optional.of(new RopeScaling(type, s.get("factor").asDouble(), s.path("low_freq_factor").asDouble(1),
            s.path("high_freq_factor").asDouble(4), s.path("original_max_position_embeddings").asInt(8192)));
      default:
        throw new UnsupportedFormatException(location + ": rope_scaling.rope_type",
            "unsupported RoPE scaling '" + type + "' (default, linear, llama3)");
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
    if (!n.canConvertToExactIntegral() && !n.isIntegralNumber()) {
      throw new InvalidInputException(location + ": " + field, field + " must be an integer, was " + n);
    }
    return OptionalInt.of(n.asInt());
  }

  private static java.util.OptionalDouble optDouble(JsonNode root, String field, String location) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return java.util.OptionalDouble.empty();
    }
    if (!n.isNumber()) {
      throw new InvalidInputException(location + ": " + field, field + " must be a number, was " + n);
    }
    return java.util.OptionalDouble.of(n.asDouble());
  }

  /** This configuration as Hugging Face config.json. */
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
    o.put("head_dim", headDim());
    o.put("hidden_act", "silu");
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
    o.put("attention_bias", false);
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

  /** Parameters of the whole model (embeddings, all layers, norms and an untied lm_head). */
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

  /** Builds a {@link LlamaConfig}. */
  final class Builder extends ImmutableLlamaConfig.Builder {}

}

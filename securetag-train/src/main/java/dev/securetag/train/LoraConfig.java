package dev.securetag.train;

import dev.securetag.core.SecuretagStyle;
import java.util.List;
import org.immutables.value.Value;

/**
 * LoRA adapter settings with PEFT's meaning: rank {@code r}, {@code alpha}, dropout, rsLoRA scaling and the target
 * modules, matched like PEFT (exact module name or a {@code .name} suffix; {@code all-linear} = every decoder linear
 * layer except the output head). Adapters start as PEFT does: A Kaiming-uniform, B zero.
 */
@Value.Immutable
@SecuretagStyle
public interface LoraConfig {
  /** The attention projections, this module's default target. */
  List<String> ATTENTION = List.of("q_proj", "k_proj", "v_proj", "o_proj");
  /** The dense MLP projections. */
  List<String> MLP = List.of("gate_proj", "up_proj", "down_proj");
  /** PEFT's shortcut for all linear layers except lm_head. */
  String ALL_LINEAR = "all-linear";

  @Value.Default
  default int r() {
    return 8;
  }

  @Value.Default
  default double alpha() {
    return 16;
  }

  @Value.Default
  default double dropout() {
    return 0.0;
  }

  /** Scale by alpha/sqrt(r) instead of alpha/r. */
  @Value.Default
  default boolean useRslora() {
    return false;
  }

  /** Module names or {@value #ALL_LINEAR}; defaults to {@link #ATTENTION}. */
  @Value.Default
  default List<String> targetModules() {
    return ATTENTION;
  }

  /** The factor applied to B·A. */
  @Value.Derived
  default double scaling() {
    return useRslora() ? alpha() / Math.sqrt(r()) : alpha() / r();
  }

  @Value.Check
  default void check() {
    if (r() <= 0) {
      throw new IllegalArgumentException("LoraConfig.r must be > 0, was " + r());
    }
    if (dropout() < 0 || dropout() >= 1) {
      throw new IllegalArgumentException("LoraConfig.dropout must be in [0, 1), was " + dropout());
    }
    if (targetModules().isEmpty()) {
      throw new IllegalArgumentException("LoraConfig.targetModules must not be empty");
    }
  }

  /** Whether the module at {@code path} (e.g. {@code model.layers.0.self_attn.q_proj}) gets an adapter. */
  default boolean targets(String path) {
    if (path.equals("lm_head")) {
      return false;
    }
    for (String t : targetModules()) {
      if (t.equals(ALL_LINEAR) || path.equals(t) || path.endsWith("." + t)) {
        return true;
      }
    }
    return false;
  }

  static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link LoraConfig}. */
  final class Builder extends ImmutableLoraConfig.Builder {}
}

package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class LoraConfigTest {
  @Test
  void rsLoraScalesByAlphaOverSqrtR() {
    assertThat(LoraConfig.builder().r(16).alpha(32).build().scaling()).isEqualTo(2.0);
    assertThat(LoraConfig.builder().r(16).alpha(32).useRslora(true).build().scaling()).isEqualTo(8.0);
    LoraConfig all = LoraConfig.builder().targetModules(List.of(LoraConfig.ALL_LINEAR)).build();
    assertThat(all.targets("model.layers.3.mlp.down_proj")).isTrue();
    assertThat(all.targets("lm_head")).isFalse();
    LoraConfig mlp = LoraConfig.builder().targetModules(LoraConfig.MLP).build();
    assertThat(mlp.targets("model.layers.0.mlp.gate_proj")).isTrue();
    assertThat(mlp.targets("model.layers.0.self_attn.q_proj")).isFalse();
  }

  @Test
  void defaultsTargetAttentionProjectionsAndRejectBadValues() {
    LoraConfig c = LoraConfig.builder().build();
    assertThat(c.targetModules()).containsExactly("q_proj", "k_proj", "v_proj", "o_proj");
    assertThat(c.scaling()).isEqualTo(2.0);
    assertThat(c.targets("model.layers.0.block_sparse_moe.gate")).isFalse();
    assertThatThrownBy(() -> LoraConfig.builder().r(0).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("r");
    assertThatThrownBy(() -> LoraConfig.builder().dropout(1.0).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dropout");
  }
}

package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ModelOptionsTest {
  @Test
  void defaultsToQloraSettingsAndFullPrecisionIsUnquantized() {
    ModelOptions d = ModelOptions.builder().build();
    assertThat(d.quantization()).isEqualTo(Quantization.NF4_DOUBLE_QUANT);
    assertThat(d.float64()).isFalse();
    assertThat(d.kernels()).isEqualTo(KernelBackends.Preference.AUTO);
    assertThat(ModelOptions.fullPrecision().quantization()).isEqualTo(Quantization.NONE);
  }
}

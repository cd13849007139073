package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.train.internal.DecoderLoader;
import org.junit.jupiter.api.Test;

class ModelOptionsTest {
  @Test
  void defaultsToQloraSettingsAndFullPrecisionIsUnquantized() {
    ModelOptions d = ModelOptions.builder().build();
    assertThat(d.quantization()).isEqualTo(Quantization.NF4_DOUBLE_QUANT);
    assertThat(d.float64()).isFalse();
    assertThat(d.kernels()).isEqualTo(KernelBackends.Preference.AUTO);
    assertThat(ModelOptions.fullPrecision().quantization()).isEqualTo(Quantization.NONE);
    assertThat(d.device()).isEqualTo(ComputeDevice.AUTO);
    assertThat(d.precision()).isEqualTo(Precision.AUTO);
    assertThat(d.attention()).isEqualTo(AttentionKernel.SDPA);
  }

  @Test
  void autoPrecisionIsBf16OnCudaAndFp32OnTheCpuAndFloat64ExcludesLowPrecision() {
    ModelOptions d = ModelOptions.builder().build();
    assertThat(DecoderLoader.resolvePrecision(d, ai.djl.Device.gpu(0))).isEqualTo(Precision.BF16);
    assertThat(DecoderLoader.resolvePrecision(d, ai.djl.Device.cpu())).isEqualTo(Precision.FP32);
    assertThat(DecoderLoader.resolvePrecision(ModelOptions.builder().precision(Precision.FP16).build(),
        ai.djl.Device.cpu())).isEqualTo(Precision.FP16);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> LlamaModel.load(java.nio.file.Path.of("unused"),
        ModelOptions.builder().float64(true).precision(Precision.BF16).build()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("float64");
  }
}

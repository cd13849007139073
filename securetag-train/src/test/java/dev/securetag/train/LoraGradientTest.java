package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.securetag.testing.TinyLlamaFactory;
import dev.securetag.train.internal.DecoderWeights;
import java.nio.DoubleBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraGradientTest {
  @TempDir Path tmp;

  private static final int[][] TOKENS = {{1, 30, 31, 200, 45, 46, 2}, {1, 77, 78, 79, 2, 0, 0}};
  private static final int[] LENGTHS = {7, 5};
  private static final int[][] TARGETS = {{-100, -100, 200, 45, 46, 2, -100}, {-100, 78, 79, 2, -100, -100, -100}};

  private static double loss(LlamaModel m) {
    try (NDScope s = new NDScope()) {
      s.suppressNotUsedWarning();
      return m.decoder().nllSum(TOKENS, LENGTHS, TARGETS, null).toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
    }
  }

  @Test
  void loraGradientsEqualCentralFiniteDifferencesInFloat64() {
    Path dir = TinyLlamaFactory.builder().hiddenSize(16).layers(2).heads(2).kvHeads(1).intermediateSize(24)
        .vocabSize(400).seed(11).build().writeTo(tmp.resolve("m"));
    ModelOptions opts = ModelOptions.builder().quantization(Quantization.NF4).float64(true).build();
    try (LlamaModel m = LlamaModel.load(dir, opts)) {
      m.addLora(LoraConfig.builder().r(2).alpha(4).targetModules(List.of(LoraConfig.ALL_LINEAR)).build(), 1);
      List<NDArray> params = m.weights().loraParameters();
      SplittableRandom rng = new SplittableRandom(2);
      for (NDArray p : params) {
        double[] v = p.toDoubleArray();
        for (int i = 0; i < v.length; i++) {
          v[i] = (rng.nextDouble() - 0.5) * 0.4;
        }
        p.set(DoubleBuffer.wrap(v));
      }
      double[][] grads = new double[params.size()][];
      try (NDScope s = new NDScope(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        s.suppressNotUsedWarning();
        NDArray loss = m.decoder().nllSum(TOKENS, LENGTHS, TARGETS, null);
        gc.backward(loss);
        for (int i = 0; i < params.size(); i++) {
          grads[i] = params.get(i).getGradient().toDoubleArray();
        }
      }
      double eps = 1e-5;
      int checked = 0;
      for (int pi = 0; pi < params.size(); pi += 3) {
        NDArray p = params.get(pi);
        double[] base = p.toDoubleArray();
        for (int k = 0; k < 3; k++) {
          int i = rng.nextInt(base.length);
          double[] v = base.clone();
          v[i] = base[i] + eps;
          p.set(DoubleBuffer.wrap(v));
          double up = loss(m);
          v[i] = base[i] - eps;
          p.set(DoubleBuffer.wrap(v));
          double down = loss(m);
          p.set(DoubleBuffer.wrap(base));
          double fd = (up - down) / (2 * eps);
          double g = grads[pi][i];
          assertThat(Math.abs(g - fd)).as("param %d element %d: autograd %s vs fd %s", pi, i, g, fd)
              .isLessThanOrEqualTo(1e-3 * Math.max(Math.abs(fd), Math.abs(g)) + 1e-9);
          checked++;
        }
      }
      assertThat(checked).isGreaterThan(20);
    }
  }

  @Test
  void onlyAdapterParametersReceiveGradientsAndFreshBIsZero() {
    Path dir = TinyLlamaFactory.builder().hiddenSize(16).layers(1).heads(2).kvHeads(2).intermediateSize(24)
        .vocabSize(400).seed(12).build().writeTo(tmp.resolve("m2"));
    try (LlamaModel m = LlamaModel.load(dir, ModelOptions.builder().quantization(Quantization.NONE).build())) {
      m.addLora(LoraConfig.builder().r(4).alpha(8).build(), 3);
      assertThat(m.loraModules()).containsExactly("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
          "model.layers.0.self_attn.v_proj", "model.layers.0.self_attn.o_proj");
      float[] a = m.loraA("model.layers.0.self_attn.q_proj");
      double bound = 1 / Math.sqrt(16);
      for (float x : a) {
        assertThat(Math.abs(x)).isLessThanOrEqualTo((float) bound);
      }
      assertThat(m.loraB("model.layers.0.self_attn.q_proj")).containsOnly(0f);
      double before = loss(m);
      try (LlamaModel plain = LlamaModel.load(dir, ModelOptions.builder().quantization(Quantization.NONE).build())) {
        assertThat(loss(plain)).isEqualTo(before);
      }
      try (NDScope s = new NDScope(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        s.suppressNotUsedWarning();
        gc.backward(m.decoder().nllSum(TOKENS, LENGTHS, TARGETS, null));
        for (DecoderWeights.Layer l : m.weights().layers()) {
          assertThat(l.linears().stream().filter(x -> x.name().endsWith("mlp.gate_proj"))
              .noneMatch(x -> x.hasLora())).isTrue();
        }
        // With B = 0, dL/dA is exactly zero and dL/dB is not.
        List<NDArray> ps = m.weights().loraParameters();
        assertThat(ps.get(0).getGradient().abs().sum().getFloat()).isZero();
        assertThat(ps.get(1).getGradient().abs().sum().getFloat()).isPositive();
      }
    }
  }
}

package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.testing.TinyLlamaFactory;
import java.io.IOException;
import java.nio.DoubleBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The same checks on every device: tiny-llama's logits against the float64 reference and llama.cpp, adapter gradients
 * against finite differences (full graph and checkpointed), and a short BF16 training run. The CUDA cases run where an
 * NVIDIA device is present and fail (not skip) when DJL's PyTorch engine cannot use it there.
 */
class DeviceParityTest {
  @TempDir Path tmp;

  private static ComputeDevice require(ComputeDevice d) {
    DeviceNf4Test.device(d);
    return d;
  }

  @ParameterizedTest
  @EnumSource(value = ComputeDevice.class, names = {"CPU", "CUDA"})
  void tinyLlamaLogitsMatchTheReferenceOnTheDevice(ComputeDevice which) {
    ComputeDevice d = require(which);
    JsonNode fx = Fixtures.json("tiny-llama/expected/logits.json");
    JsonNode ref = fx.get("runs").get("model-f32.gguf").get("reference_fp64");
    for (AttentionKernel a : AttentionKernel.values()) {
      ModelOptions opts = ModelOptions.builder().quantization(Quantization.NONE).device(d).precision(Precision.FP32)
          .attention(a).build();
      try (LlamaModel m = LlamaModel.load(Fixtures.path("tiny-llama/hf"), opts)) {
        assertThat(m.deviceName()).isEqualTo(d == ComputeDevice.CUDA ? "cuda:0" : "cpu");
        for (JsonNode prompt : fx.get("prompts")) {
          int[] tokens = new int[prompt.get("token_ids").size()];
          for (int i = 0; i < tokens.length; i++) {
            tokens[i] = prompt.get("token_ids").get(i).asInt();
          }
          float[][] logits = m.logits(tokens);
          String id = prompt.get("id").asText();
          assertThat(LlamaModelTest.maxAbsDiff(logits[tokens.length - 1], LlamaModelTest.run(ref, id).get("logits")))
              .as("%s %s on %s", id, a, d).isLessThan(1e-4);
        }
      }
    }
  }

  @org.junit.jupiter.api.Test
  void cudaRequestedWhereTheEngineSeesNoGpuFailsWithTheReason() {
    java.util.Optional<String> why = LlamaModel.cudaUnavailableReason();
    org.junit.jupiter.api.Assumptions.assumeTrue(why.isPresent(), "this machine's engine has a GPU");
    Path dir = TinyLlamaFactory.builder().hiddenSize(16).layers(1).heads(2).kvHeads(1).intermediateSize(24)
        .vocabSize(400).build().writeTo(tmp.resolve("nocuda"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> LlamaModel.load(dir,
        ModelOptions.builder().device(ComputeDevice.CUDA).build())).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("CUDA device requested but unavailable").hasMessageContaining("PYTORCH_LIBRARY_PATH");
    try (LlamaModel m = LlamaModel.load(dir, ModelOptions.builder().build())) {
      assertThat(m.deviceName()).isEqualTo("cpu");
      assertThat(m.precision()).isEqualTo(Precision.FP32);
    }
  }

  /**
   * The CUDA dequantize path (packed NF4 on the device, libtorch operations) forced on the CPU gives the same logits,
   * bit for bit, as the CPU path (Java kernel), so the model-level wiring CUDA uses is exercised here too.
   */
  @org.junit.jupiter.api.Test
  void deviceDequantizePathGivesTheSameLogitsAsTheJavaKernelOnTheCpu() {
    Path dir = TinyLlamaFactory.builder().hiddenSize(64).layers(2).heads(4).kvHeads(2).intermediateSize(96)
        .vocabSize(400).seed(14).build().writeTo(tmp.resolve("dq"));
    int[] prompt = {1, 40, 300, 301, 77, 12, 399, 5};
    float[][] host;
    float[][] torch;
    try (LlamaModel m = LlamaModel.load(dir, ModelOptions.builder().device(ComputeDevice.CPU).build())) {
      assertThat(m.weights().allLinears().get(0).quantized()).isTrue();
      host = m.logits(prompt);
    }
    System.setProperty("securetag.train.nf4Dequant", "torch");
    try (LlamaModel m = LlamaModel.load(dir, ModelOptions.builder().device(ComputeDevice.CPU).build())) {
      torch = m.logits(prompt);
      assertThat(m.weights().allLinears().get(0).nf4().doubleQuant()).isTrue();
    } finally {
      System.clearProperty("securetag.train.nf4Dequant");
    }
    for (int i = 0; i < prompt.length; i++) {
      assertThat(torch[i]).as("position %d", i).containsExactly(host[i]);
    }
  }

  @ParameterizedTest
  @EnumSource(value = ComputeDevice.class, names = {"CPU", "CUDA"})
  void adapterGradientsEqualFiniteDifferencesOnTheDevice(ComputeDevice which) {
    ComputeDevice d = require(which);
    Path dir = TinyLlamaFactory.builder().hiddenSize(16).layers(2).heads(2).kvHeads(1).intermediateSize(24)
        .vocabSize(400).seed(11).build().writeTo(tmp.resolve("m"));
    ModelOptions opts = ModelOptions.builder().quantization(Quantization.NF4_DOUBLE_QUANT).float64(true).device(d).build();
    try (LlamaModel m = LlamaModel.load(dir, opts)) {
      m.addLora(LoraConfig.builder().r(2).alpha(4).targetModules(List.of(LoraConfig.ALL_LINEAR)).build(), 1);
      GradientCheckpointingTest.randomise(m, 2);
      for (boolean checkpoint : new boolean[] {false, true}) {
        double[][] grads = GradientCheckpointingTest.gradients(m, checkpoint, null, 0, new double[1]);
        List<NDArray> params = m.weights().loraParameters();
        SplittableRandom rng = new SplittableRandom(3);
        double eps = 1e-5;
        int checked = 0;
        for (int pi = 0; pi < params.size(); pi += 3) {
          NDArray p = params.get(pi);
          double[] base = p.toDoubleArray();
          for (int k = 0; k < 2; k++) {
            int i = rng.nextInt(base.length);
            double[] v = base.clone();
            v[i] = base[i] + eps;
            p.set(DoubleBuffer.wrap(v));
            double up = loss(m);
            v[i] = base[i] - eps;
            p.set(DoubleBuffer.wrap(v));
            double down = loss(m);
            p.set(DoubleBuffer.wrap(base));
            double fd = (up - down) / (2 * eps) * 0.5;
            double g = grads[pi][i];
            assertThat(Math.abs(g - fd)).as("%s checkpoint=%s param %d[%d]: autograd %s fd %s", d, checkpoint, pi, i, g,
                fd).isLessThanOrEqualTo(1e-3 * Math.max(Math.abs(fd), Math.abs(g)) + 1e-9);
            checked++;
          }
        }
        assertThat(checked).isGreaterThan(15);
      }
    }
  }

  /** nllSum (no dropout) of the batch GradientCheckpointingTest.gradients uses, with dropout seed 0 there: none. */
  private static double loss(LlamaModel m) {
    try (NDScope s = new NDScope()) {
      s.suppressNotUsedWarning();
      return m.decoder().nllSum(GradientCheckpointingTest.TOKENS, GradientCheckpointingTest.LENGTHS,
          GradientCheckpointingTest.TARGETS, null).toType(DataType.FLOAT64, false).getDouble();
    }
  }

  @ParameterizedTest
  @EnumSource(value = ComputeDevice.class, names = {"CPU", "CUDA"})
  void bf16TrainingWithCheckpointingLowersTheLossOnTheDevice(ComputeDevice which) throws IOException {
    ComputeDevice d = require(which);
    Path base = TinyLlamaFactory.builder().hiddenSize(64).layers(2).heads(4).kvHeads(2).intermediateSize(128)
        .vocabSize(512).seed(21).build().writeTo(tmp.resolve("base"));
    Path data = QloraTrainerTest.jsonl(tmp.resolve("d.jsonl"), 0, 8);
    try (QloraTrainer t = QloraTrainer.builder().baseModel(base).trainData(data).outputDir(tmp.resolve("out"))
        .lora(LoraConfig.builder().r(8).alpha(16).targetModules(List.of(LoraConfig.ALL_LINEAR)).build())
        .learningRate(1e-2).batchSize(4).epochs(5).seed(3).device(d).precision(Precision.BF16)
        .checkpointEachEpoch(false).build()) {
      TrainingResult r = t.train();
      assertThat(r.setup().device()).isEqualTo(d == ComputeDevice.CUDA ? "cuda:0" : "cpu");
      assertThat(r.setup().precision()).isEqualTo(Precision.BF16);
      assertThat(r.setup().gradientCheckpointing()).isTrue();
      assertThat(r.finalLoss()).isLessThan(0.8 * r.stepLosses().get(0));
    }
  }
}

package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.testing.TinyLlamaFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BF16 / FP16 matmuls with float32 LoRA masters and optimizer (run on the CPU here; the same ops run on CUDA): the loss
 * curve tracks float32 training, BF16 training still memorises, and FP16 runs with a dynamic loss scale.
 */
class MixedPrecisionTest {
  @TempDir static Path shared;
  static Path base;

  @TempDir Path tmp;

  @BeforeAll
  static void createBase() {
    base = TinyLlamaFactory.builder().hiddenSize(64).layers(2).heads(4).kvHeads(2).intermediateSize(128)
        .vocabSize(512).seed(21).build().writeTo(shared.resolve("base"));
  }

  private TrainingResult run(Precision p, Path data, String out) {
    try (QloraTrainer t = QloraTrainer.builder().baseModel(base).trainData(data).outputDir(tmp.resolve(out))
        .lora(LoraConfig.builder().r(8).alpha(16).targetModules(List.of(LoraConfig.ALL_LINEAR)).build())
        .learningRate(1e-2).warmupSteps(2).batchSize(4).epochs(6).seed(3).precision(p).checkpointEachEpoch(false)
        .build()) {
      assertThat(t.model().precision()).isEqualTo(p);
      return t.train();
    }
  }

  /** Largest relative deviation of {@code other}'s step losses from {@code ref}'s. */
  private static double maxRelDeviation(List<Double> ref, List<Double> other) {
    assertThat(other).hasSameSizeAs(ref);
    double max = 0;
    for (int i = 0; i < ref.size(); i++) {
      max = Math.max(max, Math.abs(other.get(i) - ref.get(i)) / ref.get(i));
    }
    return max;
  }

  @Test
  void bf16AndFp16LossCurvesTrackFloat32() throws IOException {
    Path data = QloraTrainerTest.jsonl(tmp.resolve("d.jsonl"), 0, 12);
    TrainingResult fp32 = run(Precision.FP32, data, "fp32");
    TrainingResult bf16 = run(Precision.BF16, data, "bf16");
    TrainingResult fp16 = run(Precision.FP16, data, "fp16");
    double bfDev = maxRelDeviation(fp32.stepLosses(), bf16.stepLosses());
    double fpDev = maxRelDeviation(fp32.stepLosses(), fp16.stepLosses());
    System.out.printf("loss curves over %d steps: fp32 %s%n bf16 max rel deviation %.5f, fp16 %.5f%n",
        fp32.steps(), fp32.stepLosses(), bfDev, fpDev);
    assertThat(fp32.stepLosses().get(fp32.steps() - 1)).isLessThan(0.6 * fp32.stepLosses().get(0));
    // bf16 keeps 8 mantissa bits (relative rounding 2^-9 per operand), fp16 11; the bars leave room for the
    // rounding to compound over 18 optimizer steps.
    assertThat(bfDev).isLessThan(0.01);
    assertThat(fpDev).isLessThan(0.002);
    assertThat(bf16.setup().precision()).isEqualTo(Precision.BF16);
    assertThat(bf16.setup().lossScale()).isEqualTo(1.0);
    assertThat(fp16.setup().lossScale()).isEqualTo(65536.0);
    assertThat(fp16.setup().skippedSteps()).isZero();
  }

  @Test
  void bf16TrainingMemorisesTwentyQaPairs() throws IOException {
    Path data = QloraTrainerTest.jsonl(tmp.resolve("qa.jsonl"), 0, 20);
    try (QloraTrainer t = QloraTrainer.builder().baseModel(base).trainData(data).outputDir(tmp.resolve("mem"))
        .lora(LoraConfig.builder().r(16).alpha(32).targetModules(List.of(LoraConfig.ALL_LINEAR)).build())
        .learningRate(3e-3).warmupSteps(10).scheduler(Scheduler.COSINE).epochs(60).batchSize(5).seed(1)
        .precision(Precision.BF16).checkpointEachEpoch(false).build()) {
      TrainingResult r = t.train();
      assertThat(r.finalLoss()).isLessThan(0.05);
      List<String> wrong = new ArrayList<>();
      for (String[] qa : QloraTrainerTest.QA) {
        String got = t.model().generate(PromptTemplate.prompt(qa[0], ""), GenerationConfig.greedy(40));
        if (!got.equals(qa[1])) {
          wrong.add(qa[0] + " -> " + got);
        }
      }
      assertThat(wrong).isEmpty();
    }
  }
}

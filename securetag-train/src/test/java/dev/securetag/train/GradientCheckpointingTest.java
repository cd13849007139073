package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import dev.securetag.core.HfConfig;
import dev.securetag.testing.TinyLlamaFactory;
import dev.securetag.train.internal.DecoderForward;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-layer gradient checkpointing ({@link LlamaModel#trainBackward} with {@code checkpoint = true}) gives the same
 * loss and adapter gradients as back-propagating through the full graph, including LoRA dropout (each layer's masks are
 * redrawn identically when it is recomputed), GQA, padding, packed rows and Mixtral's router.
 */
class GradientCheckpointingTest {
  @TempDir Path tmp;

  static final int[][] TOKENS = {{1, 30, 31, 200, 45, 46, 2, 9}, {1, 77, 78, 79, 2, 0, 0, 0}};
  static final int[] LENGTHS = {8, 5};
  static final int[][] TARGETS = {{-100, -100, 200, 45, 46, 2, -100, -100}, {-100, 78, 79, 2, -100, -100, -100, -100}};

  /** Gradients of all adapter parameters after one trainBackward, then zeroed. */
  static double[][] gradients(LlamaModel m, boolean checkpoint, int[][] segments, long dropoutSeed, double[] loss) {
    DecoderForward.TrainStep r = m.decoder().trainBackward(TOKENS, LENGTHS, segments, TARGETS, new SplittableRandom(dropoutSeed),
        0.5, checkpoint);
    loss[0] = r.nllSum();
    List<NDArray> ps = m.weights().loraParameters();
    double[][] g = new double[ps.size()][];
    for (int i = 0; i < ps.size(); i++) {
      NDArray grad = ps.get(i).getGradient();
      g[i] = grad.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
      grad.muli(0);
      grad.close();
    }
    return g;
  }

  /** Random non-zero adapters, so every A and B gradient carries signal. */
  static void randomise(LlamaModel m, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    for (NDArray p : m.weights().loraParameters()) {
      int n = (int) p.size();
      if (p.getDataType() == ai.djl.ndarray.types.DataType.FLOAT64) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
          v[i] = (rng.nextDouble() - 0.5) * 0.4;
        }
        p.set(DoubleBuffer.wrap(v));
      } else {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
          v[i] = (float) ((rng.nextDouble() - 0.5) * 0.4);
        }
        p.set(FloatBuffer.wrap(v));
      }
    }
  }

  static double maxRelDiff(double[][] a, double[][] b) {
    double max = 0;
    double scale = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) {
        max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
        scale = Math.max(scale, Math.abs(a[i][j]));
      }
    }
    assertThat(scale).isPositive();
    return max / scale;
  }

  private void checkEquivalent(Path dir, ModelOptions opts, int[][] segments, double tolerance) {
    try (LlamaModel m = LlamaModel.load(dir, opts)) {
      m.addLora(LoraConfig.builder().r(4).alpha(8).dropout(0.2).targetModules(List.of(LoraConfig.ALL_LINEAR)).build(),
          3);
      randomise(m, 4);
      double[] lossFull = new double[1];
      double[] lossCkpt = new double[1];
      double[][] full = gradients(m, false, segments, 77, lossFull);
      double[][] ckpt = gradients(m, true, segments, 77, lossCkpt);
      assertThat(lossCkpt[0]).isCloseTo(lossFull[0], org.assertj.core.data.Offset.offset(tolerance * Math.abs(lossFull[0])));
      assertThat(maxRelDiff(full, ckpt)).as("max gradient difference relative to the largest gradient")
          .isLessThan(tolerance);
      // Another dropout draw changes the gradients, so the equality above is not an artefact of dropout being off.
      double[][] other = gradients(m, true, segments, 78, new double[1]);
      assertThat(maxRelDiff(ckpt, other)).isGreaterThan(1e-3);
    }
  }

  @Test
  void checkpointedGradientsEqualFullGraphGradientsInFloat64() {
    Path dir = TinyLlamaFactory.builder().hiddenSize(32).layers(3).heads(4).kvHeads(2).intermediateSize(48)
        .vocabSize(400).seed(31).build().writeTo(tmp.resolve("llama"));
    checkEquivalent(dir, ModelOptions.builder().quantization(Quantization.NF4_DOUBLE_QUANT).float64(true).build(), null,
        1e-10);
  }

  @Test
  void checkpointedGradientsEqualFullGraphGradientsInFloat32WithExplicitAttention() {
    Path dir = TinyLlamaFactory.builder().hiddenSize(32).layers(3).heads(4).kvHeads(1).intermediateSize(48)
        .vocabSize(400).seed(32).build().writeTo(tmp.resolve("llama32"));
    checkEquivalent(dir, ModelOptions.builder().attention(AttentionKernel.EXPLICIT).build(), null, 1e-5);
  }

  @Test
  void checkpointedGradientsEqualFullGraphGradientsForPackedRowsAndMixtral() {
    Path dir = TinyLlamaFactory.builder().architecture(HfConfig.Architecture.MIXTRAL).experts(4, 2).hiddenSize(32).layers(2)
        .heads(4).kvHeads(2).intermediateSize(40).vocabSize(400).seed(33).build().writeTo(tmp.resolve("mixtral"));
    int[][] segments = {{0, 0, 0, 0, 1, 1, 1, 1}, {0, 0, 0, 0, 0, -1, -1, -1}};
    checkEquivalent(dir, ModelOptions.builder().float64(true).build(), segments, 1e-10);
  }

  /**
   * Garbage collections between forward and backward change nothing, in float64 and float32, with and without
   * checkpointing, dense and Mixtral. A graph tensor that aliases a Java buffer (DJL's {@code toType} of the same type
   * returned the float64 scalars that way) is freed by the collector and backward then reads garbage: flaky 0.0 or
   * 1e-311 gradients before the fix, every time with the collections forced here.
   */
  @Test
  void gradientsSurviveGarbageCollectionsBetweenForwardAndBackward() {
    Path llama = TinyLlamaFactory.builder().hiddenSize(32).layers(2).heads(4).kvHeads(2).intermediateSize(48)
        .vocabSize(400).seed(34).build().writeTo(tmp.resolve("gc-llama"));
    Path mixtral = TinyLlamaFactory.builder().architecture(HfConfig.Architecture.MIXTRAL).experts(4, 2).hiddenSize(32)
        .layers(2).heads(4).kvHeads(2).intermediateSize(40).vocabSize(400).seed(35).build().writeTo(tmp.resolve("gc-moe"));
    int collections = 0;
    for (Path dir : List.of(llama, mixtral)) {
      for (boolean float64 : new boolean[] {true, false}) {
        ModelOptions opts = ModelOptions.builder().quantization(Quantization.NF4_DOUBLE_QUANT).float64(float64).build();
        try (LlamaModel m = LlamaModel.load(dir, opts)) {
          m.addLora(LoraConfig.builder().r(4).alpha(8).dropout(0.1).targetModules(List.of(LoraConfig.ALL_LINEAR))
              .build(), 5);
          randomise(m, 6);
          for (boolean checkpoint : new boolean[] {false, true}) {
            double[][] quiet = gradients(m, checkpoint, null, 9, new double[1]);
            int[] runs = {0};
            DecoderForward.beforeBackward = () -> {
              System.gc();
              System.gc();
              runs[0]++;
            };
            double[][] collected;
            try {
              collected = gradients(m, checkpoint, null, 9, new double[1]);
            } finally {
              DecoderForward.beforeBackward = () -> {};
            }
            assertThat(runs[0]).isPositive();
            collections += runs[0];
            assertThat(maxRelDiff(quiet, collected)).as("%s float64=%s checkpoint=%s", dir.getFileName(), float64,
                checkpoint).isLessThan(float64 ? 1e-12 : 1e-6);
          }
        }
      }
    }
    assertThat(collections).isGreaterThanOrEqualTo(8);
  }

  /**
   * libtorch's grad mode is per thread and starts enabled on threads DJL did not set up; the checkpointed forward must
   * still record nothing there (else the loss head's chunks would back-propagate through one shared graph twice).
   */
  @Test
  void checkpointedBackwardOnAFreshThreadEqualsTheMainThread() throws Exception {
    Path dir = TinyLlamaFactory.builder().hiddenSize(32).layers(2).heads(4).kvHeads(2).intermediateSize(48)
        .vocabSize(400).seed(34).build().writeTo(tmp.resolve("thread"));
    try (LlamaModel m = LlamaModel.load(dir, ModelOptions.builder().float64(true).build())) {
      m.addLora(LoraConfig.builder().r(2).alpha(4).targetModules(List.of(LoraConfig.ALL_LINEAR)).build(), 5);
      randomise(m, 6);
      double[][] main = gradients(m, true, null, 1, new double[1]);
      double[][][] other = new double[1][][];
      Throwable[] failure = new Throwable[1];
      Thread t = new Thread(() -> {
        try {
          other[0] = gradients(m, true, null, 1, new double[1]);
        } catch (Throwable e) {
          failure[0] = e;
        }
      }, "not-djl");
      t.start();
      t.join();
      assertThat(failure[0]).isNull();
      assertThat(maxRelDiff(main, other[0])).isLessThan(1e-12);
    }
  }

  @Test
  void trainingLossCurveIsTheSameWithAndWithoutCheckpointing() throws java.io.IOException {
    Path base = TinyLlamaFactory.builder().hiddenSize(64).layers(2).heads(4).kvHeads(2).intermediateSize(128)
        .vocabSize(512).seed(21).build().writeTo(tmp.resolve("base"));
    Path data = QloraTrainerTest.jsonl(tmp.resolve("d.jsonl"), 0, 8);
    List<Double> curve = null;
    for (boolean ckpt : new boolean[] {false, true}) {
      try (QloraTrainer t = QloraTrainer.builder().baseModel(base).trainData(data).outputDir(tmp.resolve("o" + ckpt))
          .lora(LoraConfig.builder().r(4).alpha(8).dropout(0.1).targetModules(List.of(LoraConfig.ALL_LINEAR)).build())
          .learningRate(2e-3).batchSize(2).epochs(2).seed(5).gradientCheckpointing(ckpt).checkpointEachEpoch(false)
          .build()) {
        TrainingResult r = t.train();
        assertThat(r.setup().gradientCheckpointing()).isEqualTo(ckpt);
        if (curve == null) {
          curve = r.stepLosses();
        } else {
          assertThat(r.stepLosses()).hasSameSizeAs(curve);
          for (int i = 0; i < curve.size(); i++) {
            assertThat(r.stepLosses().get(i)).as("step %d", i + 1).isCloseTo(curve.get(i),
                org.assertj.core.data.Percentage.withPercentage(1e-3));
          }
        }
      }
    }
    assertThat(curve.get(curve.size() - 1)).isLessThan(curve.get(0));
  }
}

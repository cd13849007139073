package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.HfConfig;
import dev.securetag.testing.TinyLlamaFactory;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * libtorch's scaled_dot_product_attention (run through a TorchScript op) against the explicit softmax attention: same
 * logits for causal rows (no mask tensor), padded batches, packed rows, a sliding window and KV-cached decoding, and the
 * same adapter gradients.
 */
class AttentionKernelTest {
  @TempDir Path tmp;

  private static final int[] PROMPT = {1, 40, 300, 301, 77, 12, 399, 5, 9, 200, 3, 88};

  private static ModelOptions opts(AttentionKernel a) {
    return ModelOptions.builder().quantization(Quantization.NONE).attention(a).build();
  }

  @Test
  void sdpaLogitsEqualExplicitAttentionAndTheScalarReference() {
    Path dir = TinyLlamaFactory.builder().architecture(HfConfig.Architecture.MISTRAL).slidingWindow(5).hiddenSize(32).layers(2)
        .heads(4).kvHeads(2).intermediateSize(48).vocabSize(400).seed(41).build().writeTo(tmp.resolve("m"));
    double[][] ref = new ReferenceForward(dir).logits(PROMPT);
    try (LlamaModel sdpa = LlamaModel.load(dir, opts(AttentionKernel.SDPA));
        LlamaModel explicit = LlamaModel.load(dir, opts(AttentionKernel.EXPLICIT));
        ai.djl.ndarray.NDScope scope = new ai.djl.ndarray.NDScope()) {
      scope.suppressNotUsedWarning();
      assertThat(sdpa.attention()).isEqualTo(AttentionKernel.SDPA);
      assertThat(LlamaModelTest.maxAbsDiff(sdpa.logits(PROMPT), ref)).isLessThan(1e-4);
      assertThat(maxAbsDiff(sdpa.logits(PROMPT), explicit.logits(PROMPT))).isLessThan(1e-5);
      // Window shorter than the sequence, padding and packing all go through the masked SDPA op.
      int[][] batch = {PROMPT, {1, 50, 60, 70, 0, 0, 0, 0, 0, 0, 0, 0}};
      int[] lengths = {PROMPT.length, 4};
      int[][] segments = {{0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1}};
      float[] a = sdpa.decoder().forward(batch, lengths, null, null).toFloatArray();
      float[] b = explicit.decoder().forward(batch, lengths, null, null).toFloatArray();
      assertThat(maxAbsDiff(a, b)).isLessThan(1e-5);
      a = sdpa.decoder().forward(batch, lengths, segments, null, null).toFloatArray();
      b = explicit.decoder().forward(batch, lengths, segments, null, null).toFloatArray();
      assertThat(maxAbsDiff(a, b)).isLessThan(1e-5);
      try (LlamaModel.Session s = sdpa.newSession()) {
        s.append(java.util.Arrays.copyOfRange(PROMPT, 0, 6));
        float[][] stepped = new float[PROMPT.length - 6][];
        for (int i = 6; i < PROMPT.length; i++) {
          stepped[i - 6] = s.append(PROMPT[i])[0];
        }
        assertThat(LlamaModelTest.maxAbsDiff(stepped, java.util.Arrays.copyOfRange(ref, 6, PROMPT.length)))
            .isLessThan(1e-4);
      }
    }
  }

  @Test
  void sdpaAdapterGradientsEqualExplicitAttention() {
    Path dir = TinyLlamaFactory.builder().hiddenSize(32).layers(2).heads(4).kvHeads(1).intermediateSize(48)
        .vocabSize(400).seed(42).build().writeTo(tmp.resolve("g"));
    double[][][] grads = new double[2][][];
    AttentionKernel[] kinds = {AttentionKernel.SDPA, AttentionKernel.EXPLICIT};
    for (int k = 0; k < 2; k++) {
      try (LlamaModel m = LlamaModel.load(dir, ModelOptions.builder().float64(true).attention(kinds[k]).build())) {
        m.addLora(LoraConfig.builder().r(2).alpha(4).targetModules(List.of(LoraConfig.ALL_LINEAR)).build(), 1);
        GradientCheckpointingTest.randomise(m, 9);
        grads[k] = GradientCheckpointingTest.gradients(m, true, null, 1, new double[1]);
      }
    }
    assertThat(GradientCheckpointingTest.maxRelDiff(grads[0], grads[1])).isLessThan(1e-9);
  }

  private static double maxAbsDiff(float[][] a, float[][] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, maxAbsDiff(a[i], b[i]));
    }
    return max;
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    assertThat(a).hasSameSizeAs(b);
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }
}

package dev.securetag.gguf.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Mixtral's expert routing: softmax over the router logits, top-k, probabilities renormalised over the k chosen. */
class TransformerTest {
  @Test
  void routesToTheMostProbableExpertsWithRenormalisedWeights() {
    int[] chosen = new int[2];
    float[] weight = new float[2];
    Transformer.route(new float[] {0.1f, 2.0f, -1.0f, 1.5f}, chosen, weight);
    assertThat(chosen).containsExactly(1, 3);
    double p1 = Math.exp(2.0);
    double p3 = Math.exp(1.5);
    assertThat((double) weight[0]).isCloseTo(p1 / (p1 + p3), within(1e-6));
    assertThat((double) weight[1]).isCloseTo(p3 / (p1 + p3), within(1e-6));
  }

  @Test
  void breaksTiesTowardsTheLowestExpertAndKeepsWeightsSummingToOne() {
    int[] chosen = new int[3];
    float[] weight = new float[3];
    Transformer.route(new float[] {1f, 3f, 3f, 1f, 3f, -2f, 0f, 0f}, chosen, weight);
    assertThat(chosen).containsExactly(1, 2, 4);
    assertThat(weight).containsExactly(1f / 3, 1f / 3, 1f / 3);
    int[] one = new int[1];
    float[] w1 = new float[1];
    Transformer.route(new float[] {-5f, -4f}, one, w1);
    assertThat(one).containsExactly(1);
    assertThat(w1).containsExactly(1f);
  }
}

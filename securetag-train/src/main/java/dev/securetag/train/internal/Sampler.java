package dev.securetag.train.internal;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Picks the next token from logits: argmax (lowest id on ties) or temperature + nucleus sampling. */
public final class Sampler {
  private final double temperature;
  private final double topP;
  private final SplittableRandom rng;

  public Sampler(double temperature, double topP, long seed) {
    this.temperature = temperature;
    this.topP = topP;
    this.rng = new SplittableRandom(seed);
  }

  public static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  public int next(float[] logits) {
    if (temperature == 0) {
      return argmax(logits);
    }
    int n = logits.length;
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double[] p = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      p[i] = Math.exp((logits[i] - max) / temperature);
      sum += p[i];
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
      p[i] /= sum;
    }
    Arrays.sort(order, (a, b) -> p[b] != p[a] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
    double cum = 0;
    int keep = 0;
    while (keep < n) {
      cum += p[order[keep]];
      keep++;
      if (cum >= topP) {
        break;
      }
    }
    double u = rng.nextDouble() * cum;
    double acc = 0;
    for (int k = 0; k < keep; k++) {
      acc += p[order[k]];
      if (u < acc) {
        return order[k];
      }
    }
    return order[keep - 1];
  }
}

package dev.securetag.gguf.runtime.internal;

import java.util.Arrays;
import java.util.PriorityQueue;
import java.util.Random;

/** Picks the next token from logits: greedy at temperature 0, else top-k, temperature, top-p and min-p. */
public final class Sampler {
  private final double temperature;
  private final double topP;
  private final int topK;
  private final double minP;
  private final Random random;

  public Sampler(double temperature, double topP, int topK, double minP, long seed) {
    this.temperature = temperature;
    this.topP = topP;
    this.topK = topK;
    this.minP = minP;
    this.random = new Random(seed);
  }

  /** The highest logit's index, lowest index on ties (llama.cpp's greedy sampler). */
  public static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  public int sample(float[] logits) {
    if (temperature <= 0) {
      return argmax(logits);
    }
    int n = logits.length;
    int[] cand = topK > 0 && topK < n ? topK(logits, topK) : sortedAll(logits);
    double max = logits[cand[0]];
    double[] p = new double[cand.length];
    double sum = 0;
    for (int i = 0; i < cand.length; i++) {
      p[i] = Math.exp((logits[cand[i]] - max) / temperature);
      sum += p[i];
    }
    int keep = cand.length;
    double cum = 0;
    for (int i = 0; i < cand.length; i++) {
      cum += p[i] / sum;
      if (cum >= topP) {
        keep = i + 1;
        break;
      }
    }
    if (minP > 0) {
      double floor = minP * p[0];
      int k = 1;
      while (k < keep && p[k] >= floor) {
        k++;
      }
      keep = k;
    }
    double total = 0;
    for (int i = 0; i < keep; i++) {
      total += p[i];
    }
    double r = random.nextDouble() * total;
    for (int i = 0; i < keep; i++) {
      r -= p[i];
      if (r < 0) {
        return cand[i];
      }
    }
    return cand[keep - 1];
  }

  private static int[] topK(float[] logits, int k) {
    PriorityQueue<Integer> heap = new PriorityQueue<>(k + 1, (a, b) -> {
      int c = Float.compare(logits[a], logits[b]);
      return c != 0 ? c : Integer.compare(b, a);
    });
    for (int i = 0; i < logits.length; i++) {
      heap.add(i);
      if (heap.size() > k) {
        heap.poll();
      }
    }
    int[] out = new int[heap.size()];
    for (int i = out.length - 1; i >= 0; i--) {
      out[i] = heap.poll();
    }
    return out;
  }

  private static int[] sortedAll(float[] logits) {
    Integer[] idx = new Integer[logits.length];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, (a, b) -> {
      int c = Float.compare(logits[b], logits[a]);
      return c != 0 ? c : Integer.compare(a, b);
    });
    return Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
  }
}

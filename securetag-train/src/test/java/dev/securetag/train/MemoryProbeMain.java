package dev.securetag.train;

import dev.securetag.train.internal.DecoderForward;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Child-JVM entry point of {@code MemoryEstimateTest}: loads {@code base} (NF4 + double quant, CPU, float32), adds
 * rank-16 adapters on every linear layer, runs one warm-up training step, resets the kernel's resident-set high-water
 * mark and prints {@code PEAK <bytes>} — how far the resident set rose above its level before one more step — and
 * {@code BASE <bytes>}. Args: {@code base batch seq checkpoint(true|false) attention(SDPA|EXPLICIT)}.
 */
public final class MemoryProbeMain {
  private MemoryProbeMain() {}

  public static void main(String[] args) throws IOException {
    Path base = Path.of(args[0]);
    int batch = Integer.parseInt(args[1]);
    int seq = Integer.parseInt(args[2]);
    boolean checkpoint = Boolean.parseBoolean(args[3]);
    AttentionKernel attention = AttentionKernel.valueOf(args[4]);
    try (LlamaModel m = LlamaModel.load(base, ModelOptions.builder().device(ComputeDevice.CPU)
        .precision(Precision.FP32).attention(attention).build())) {
      m.addLora(LoraConfig.builder().r(16).alpha(32).targetModules(List.of(LoraConfig.ALL_LINEAR)).build(), 1);
      SplittableRandom rng = new SplittableRandom(2);
      int[][] tokens = new int[batch][seq];
      int[][] targets = new int[batch][seq];
      int[] lengths = new int[batch];
      for (int b = 0; b < batch; b++) {
        lengths[b] = seq;
        for (int t = 0; t < seq; t++) {
          tokens[b][t] = 3 + rng.nextInt(m.config().vocabSize() - 3);
        }
        for (int t = 0; t < seq; t++) {
          targets[b][t] = t + 1 < seq ? tokens[b][t + 1] : DecoderForward.IGNORE;
        }
      }
      m.decoder().trainBackward(tokens, lengths, null, targets, null, 1.0, checkpoint);
      zeroGrads(m);
      System.gc();
      long before = status("VmRSS");
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
      m.decoder().trainBackward(tokens, lengths, null, targets, null, 1.0, checkpoint);
      long peak = status("VmHWM");
      System.out.println("BASE " + before);
      System.out.println("PEAK " + (peak - before));
      System.out.flush();
    }
  }

  private static void zeroGrads(LlamaModel m) {
    for (var p : m.weights().loraParameters()) {
      var g = p.getGradient();
      g.muli(0);
      g.close();
    }
  }

  /** A /proc/self/status field in bytes. */
  static long status(String field) throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (l.startsWith(field + ":")) {
        return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException(field + " not in /proc/self/status");
  }
}

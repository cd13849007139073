package dev.securetag.benchmarks.ggufruntime;

import dev.securetag.gguf.GgmlType;
import dev.securetag.gguf.runtime.GgufModel;
import dev.securetag.gguf.GgufOutType;
import dev.securetag.gguf.runtime.GgufSession;
import dev.securetag.gguf.runtime.internal.SyntheticLlama;
import dev.securetag.gguf.GgufWriter;
import dev.securetag.gguf.internal.QuantRules;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Decode and prompt throughput of {@link GgufModel} on a synthetic llama GGUF (TinyLlama-1.1B shape by default, or
 * the 852.9 M-parameter shape of the GGUF spec's llama.cpp anchor) written with the project's own
 * {@link GgufWriter} (through {@link SyntheticLlama}), quantizers ({@link GgmlType#quantizeRow}) and llama-quantize type rules ({@link QuantRules}),
 * next to a memory bandwidth measured in the same run. Decoding reads every weight once per token, so weight bytes
 * per token x tokens/s is the bandwidth the decoder achieves; divided by the read bandwidth of the same run it is
 * the decoder's efficiency, the figure the bar (>= 0.55, llama.cpp's level) is stated in. Prompt tok/s is
 * also given scaled to the 852.9 M-parameter anchor (tok/s x params / 852.9 M: the work per token is proportional
 * to the parameters), against the bar of 150 tok/s.
 *
 * <p>Weights are random; to keep writing fast each tensor cycles through a pool of distinct random quantized rows
 * (the bytes differ per row position in the file, so caches see the full model). The file is deleted afterwards.
 * Each phase is also timed by the process CPU time, so on a shared machine one can tell how much of the requested
 * cores the run really got.
 *
 * <p>Each type runs in a JVM of its own (same JVM options and class path), with its own bandwidth measurement just
 * before: C2 compiles a kernel worse when the Vector API code it shares has run other kernels alone for a long time,
 * which a second model in the same JVM would measure.
 *
 * <p>Args: {@code [--size 1b|853m|tiny] [--types Q4_K_M,Q8_0] [--threads N] [--prompt 64] [--decode 16]
 * [--repeat 2] [--dir DIR]}; each phase is timed {@code --repeat} times and the best kept.
 */
public final class DecodeBench {
  private record Shape(String label, int dim, int layers, int heads, int kvHeads, int ff, int vocab) {
    long params() {
      long hd = dim / heads;
      long perLayer = 2L * dim + (long) dim * dim * 2 + 2L * dim * kvHeads * hd + 3L * dim * ff;
      return 2L * vocab * dim + dim + layers * perLayer;
    }
  }

  private static final Map<String, Shape> SHAPES = Map.of(
      "1b", new Shape("1.1B (TinyLlama-1.1B shape)", 2048, 22, 32, 4, 5632, 32000),
      "853m", new Shape("852.9M (the spec's llama.cpp anchor shape)", 2048, 16, 16, 4, 5632, 32000),
      "tiny", new Shape("tiny", 256, 4, 4, 2, 768, 512));
  /** Parameters of the llama.cpp anchor model (GGUF spec 12.1), for the scaled prompt figure. */
  private static final double ANCHOR_PARAMS = 852.9e6;
  /** The bars: decode implied bandwidth / read bandwidth, and prompt tok/s at the anchor's size. */
  private static final double DECODE_BAR = 0.55;
  private static final double PROMPT_BAR = 150;

  private DecodeBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    Shape shape = SHAPES.get(a.getOrDefault("size", "1b"));
    if (shape == null) {
      throw new IllegalArgumentException("--size must be one of " + SHAPES.keySet());
    }
    int threads = Integer.parseInt(a.getOrDefault("threads", String.valueOf(Runtime.getRuntime().availableProcessors())));
    int promptLen = Integer.parseInt(a.getOrDefault("prompt", "64"));
    int decode = Integer.parseInt(a.getOrDefault("decode", "16"));
    int repeat = Integer.parseInt(a.getOrDefault("repeat", "2"));
    boolean child = a.containsKey("child");
    Path dir = Path.of(a.getOrDefault("dir", System.getProperty("java.io.tmpdir")));
    String[] types = a.getOrDefault("types", "Q4_K_M,Q8_0").split(",");

    if (!child) {
      System.out.printf(Locale.ROOT, "machine: %d cores, java %s, load %s%n", Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.version"), loadAverage());
      System.out.printf(Locale.ROOT, "model: %s, %.3f B params, dim %d, %d layers, %d/%d heads, ff %d, vocab %d%n",
          shape.label, shape.params() / 1e9, shape.dim, shape.layers, shape.heads, shape.kvHeads, shape.ff, shape.vocab);
      System.out.println("read GB/s: summing a long[] over 256 MiB with " + threads + " threads (best of 5), measured "
          + "in each type's JVM just before its model is loaded; decode and prompt: best of " + repeat);
      System.out.println();
      System.out.println("| file | size | weight bytes/token | read GB/s | decode tok/s | implied GB/s | vs read (bar "
          + DECODE_BAR + ") | decode cores used | prompt tok/s | prompt tok/s at 852.9M (bar " + (int) PROMPT_BAR
          + ") | prompt cores used |");
      System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
      for (String t : types) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(DecodeBench.class.getName());
        for (Map.Entry<String, String> e : a.entrySet()) {
          if (!e.getKey().equals("types")) {
            cmd.add("--" + e.getKey());
            cmd.add(e.getValue());
          }
        }
        cmd.addAll(List.of("--types", t.trim(), "--child", "true"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (java.io.BufferedReader r = new java.io.BufferedReader(
            new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            if (line.startsWith("|")) {
              System.out.println(line);
            }
          }
        }
        if (p.waitFor() != 0) {
          throw new IllegalStateException("benchmark of " + t + " failed with exit code " + p.exitValue());
        }
      }
      System.out.printf(Locale.ROOT, "%nload after run: %s%n", loadAverage());
      return;
    }
    double[] bw = memoryBandwidth(threads);
    for (String t : types) {
      GgufOutType out = GgufOutType.valueOf(t.trim());
      Path file = dir.resolve("decodebench-" + out.name().toLowerCase(Locale.ROOT) + ".gguf");
      try {
        SyntheticLlama.write(file, shape.dim, shape.layers, shape.heads, shape.kvHeads, shape.ff, shape.vocab, out);
        long size = Files.size(file);
        try (GgufModel m = GgufModel.builder().ggufFile(file).threads(threads).contextLength(promptLen + decode + 8)
            .build()) {
          Random rnd = new Random(1);
          int[] prompt = rnd.ints(promptLen, 259, shape.vocab).toArray();
          // Warm-up for at least 4 s of prompts and decode steps: C2 compiles the large kernel methods late, and
          // later still when other processes share the cores; a step timed in C1 code is several times slower.
          long w0 = System.nanoTime();
          while (System.nanoTime() - w0 < 4_000_000_000L) {
            try (GgufSession warm = m.newSession()) {
              float[] l = warm.eval(prompt);
              for (int i = 0; i < decode; i++) {
                l = warm.eval(argmax(l));
              }
            }
          }
          double promptTps = 0;
          double promptCores = 0;
          double decodeTps = 0;
          double decodeCores = 0;
          for (int rep = 0; rep < repeat; rep++) {
            try (GgufSession s = m.newSession()) {
              long pc = cpuNanos();
              long p0 = System.nanoTime();
              float[] logits = s.eval(prompt);
              double pw = (System.nanoTime() - p0) / 1e9;
              if (promptLen / pw > promptTps) {
                promptTps = promptLen / pw;
                promptCores = (cpuNanos() - pc) / 1e9 / pw;
              }
              long c0 = cpuNanos();
              long d0 = System.nanoTime();
              for (int i = 0; i < decode; i++) {
                logits = s.eval(argmax(logits));
              }
              double wall = (System.nanoTime() - d0) / 1e9;
              if (decode / wall > decodeTps) {
                decodeTps = decode / wall;
                decodeCores = (cpuNanos() - c0) / 1e9 / wall;
              }
            }
          }
          double implied = m.weightBytesPerToken() * decodeTps;
          double scaled = promptTps * shape.params() / ANCHOR_PARAMS;
          System.out.printf(Locale.ROOT, "| %s | %.0f MiB | %.0f MiB | %.2f | %.2f | %.2f | %.2f %s | %.2f | %.1f | %.1f %s "
              + "| %.2f |%n", out, size / 1048576.0, m.weightBytesPerToken() / 1048576.0, bw[1] / 1e9, decodeTps,
              implied / 1e9, implied / bw[1], implied / bw[1] >= DECODE_BAR ? "(met)" : "(missed)", decodeCores,
              promptTps, scaled, scaled >= PROMPT_BAR ? "(met)" : "(missed)", promptCores);
        }
      } finally {
        Files.deleteIfExists(file);
      }
    }
  }

  /** CPU time of the whole process: on a shared machine it tells how much of the cores the decoder really got. */
  private static long cpuNanos() {
    java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
  }

  private static int argmax(float[] l) {
    int b = 0;
    for (int i = 1; i < l.length; i++) {
      if (l[i] > l[b]) {
        b = i;
      }
    }
    return b;
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** {copy bytes/s counting read + write, read bytes/s}, best of 5, over 256 MiB arrays split across threads. */
  private static double[] memoryBandwidth(int threads) {
    int n = 256 << 20;
    byte[] src = new byte[n];
    byte[] dst = new byte[n];
    new Random(3).nextBytes(src);
    long[] words = new long[n / 8];
    java.util.Arrays.fill(words, 7L);
    double bestCopy = 0;
    double bestRead = 0;
    long sink = 0;
    for (int rep = 0; rep < 5; rep++) {
      long t0 = System.nanoTime();
      IntStream.range(0, threads).parallel().forEach(t -> {
        int from = (int) ((long) n * t / threads);
        int to = (int) ((long) n * (t + 1) / threads);
        System.arraycopy(src, from, dst, from, to - from);
      });
      double s = (System.nanoTime() - t0) / 1e9;
      bestCopy = Math.max(bestCopy, 2.0 * n / s);
      long t1 = System.nanoTime();
      sink += IntStream.range(0, threads).parallel().mapToLong(t -> {
        int from = (int) ((long) words.length * t / threads);
        int to = (int) ((long) words.length * (t + 1) / threads);
        long acc = 0;
        for (int i = from; i < to; i++) {
          acc += words[i];
        }
        return acc;
      }).sum();
      double r = (System.nanoTime() - t1) / 1e9;
      bestRead = Math.max(bestRead, (double) n / r);
    }
    if (sink == 42) {
      System.out.print("");
    }
    return new double[] {bestCopy, bestRead};
  }

}

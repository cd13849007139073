package dev.securetag.benchmarks.ggufruntime;

import dev.securetag.gguf.GgmlType;
import dev.securetag.gguf.GgufModel;
import dev.securetag.gguf.GgufOutType;
import dev.securetag.gguf.GgufSession;
import dev.securetag.gguf.GgufValue;
import dev.securetag.gguf.GgufValueType;
import dev.securetag.gguf.GgufWriter;
import dev.securetag.gguf.internal.QuantRules;
import java.io.IOException;
import java.io.OutputStream;
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
 * Decode and prompt throughput of {@link GgufModel} on a synthetic llama GGUF (TinyLlama-1.1B shape by default)
 * written with the project's own {@link GgufWriter}, quantizers ({@link GgmlType#quantizeRow}) and llama-quantize
 * type rules ({@link QuantRules}), next to a memory bandwidth measured in the same run. Decoding reads every weight
 * once per token, so weight bytes per token x tokens/s is the bandwidth the decoder achieves; divided by the
 * machine's copy bandwidth it is the decoder's efficiency.
 *
 * <p>Weights are random; to keep writing fast each tensor cycles through a pool of distinct random quantized rows
 * (the bytes differ per row position in the file, so caches see the full model). The file is deleted afterwards.
 *
 * <p>Args: {@code [--size 1b|tiny] [--types Q4_K_M,Q8_0] [--threads N] [--prompt 32] [--decode 16] [--dir DIR]}.
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
      "tiny", new Shape("tiny", 256, 4, 4, 2, 768, 512));

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
    int promptLen = Integer.parseInt(a.getOrDefault("prompt", "32"));
    int decode = Integer.parseInt(a.getOrDefault("decode", "16"));
    Path dir = Path.of(a.getOrDefault("dir", System.getProperty("java.io.tmpdir")));
    String[] types = a.getOrDefault("types", "Q4_K_M,Q8_0").split(",");

    System.out.printf(Locale.ROOT, "machine: %d cores, java %s, load %s%n", Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"), loadAverage());
    System.out.printf(Locale.ROOT, "model: %s, %.3f B params, dim %d, %d layers, %d/%d heads, ff %d, vocab %d%n",
        shape.label, shape.params() / 1e9, shape.dim, shape.layers, shape.heads, shape.kvHeads, shape.ff, shape.vocab);
    double[] bw = memoryBandwidth(threads);
    System.out.printf(Locale.ROOT, "memory: copy %.2f GB/s (read+write bytes, %d threads), read %.2f GB/s%n",
        bw[0] / 1e9, threads, bw[1] / 1e9);
    System.out.println();
    System.out.println("| file | size | weight bytes/token | write s | load s | prompt tok/s | decode tok/s "
        + "| implied GB/s | vs copy | vs read | CPU cores used | GB/s per busy core |");
    System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (String t : types) {
      GgufOutType out = GgufOutType.valueOf(t.trim());
      Path file = dir.resolve("decodebench-" + out.name().toLowerCase(Locale.ROOT) + ".gguf");
      try {
        long w0 = System.nanoTime();
        write(file, shape, out);
        double writeS = (System.nanoTime() - w0) / 1e9;
        long size = Files.size(file);
        long l0 = System.nanoTime();
        try (GgufModel m = GgufModel.builder().file(file).threads(threads).contextLength(promptLen + decode + 8)
            .build()) {
          double loadS = (System.nanoTime() - l0) / 1e9;
          Random rnd = new Random(1);
          int[] prompt = rnd.ints(promptLen, 259, shape.vocab).toArray();
          try (GgufSession warm = m.newSession()) {
            // Compiles the batched and single-token kernels (C2 needs many calls, and is slow to get CPU on a
            // loaded machine) and faults in the mapping before timing.
            float[] l = warm.eval(prompt);
            for (int i = 0; i < 4; i++) {
              l = warm.eval(argmax(l));
            }
          }
          try (GgufSession s = m.newSession()) {
            long p0 = System.nanoTime();
            float[] logits = s.eval(prompt);
            double promptTps = promptLen / ((System.nanoTime() - p0) / 1e9);
            long c0 = cpuNanos();
            long d0 = System.nanoTime();
            for (int i = 0; i < decode; i++) {
              logits = s.eval(argmax(logits));
            }
            double wall = (System.nanoTime() - d0) / 1e9;
            double cores = (cpuNanos() - c0) / 1e9 / wall;
            double decodeTps = decode / wall;
            double implied = m.weightBytesPerToken() * decodeTps;
            System.out.printf(Locale.ROOT, "| %s | %.0f MiB | %.0f MiB | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f "
                + "| %.2f | %.2f |%n", out, size / 1048576.0, m.weightBytesPerToken() / 1048576.0, writeS, loadS,
                promptTps, decodeTps, implied / 1e9, implied / bw[0], implied / bw[1], cores, implied / 1e9 / cores);
          }
        }
      } finally {
        Files.deleteIfExists(file);
      }
    }
    System.out.printf(Locale.ROOT, "%nload after run: %s%n", loadAverage());
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

  private static void write(Path file, Shape s, GgufOutType out) {
    int hd = s.dim / s.heads;
    QuantRules rules = new QuantRules(out, s.layers, 0, s.layers, false, false);
    GgufWriter w = GgufWriter.create();
    w.put("general.architecture", GgufValue.string("llama"));
    w.put("general.type", GgufValue.string("model"));
    w.put("general.name", GgufValue.string("decodebench"));
    w.put("llama.block_count", GgufValue.uint32(s.layers));
    w.put("llama.context_length", GgufValue.uint32(2048));
    w.put("llama.embedding_length", GgufValue.uint32(s.dim));
    w.put("llama.feed_forward_length", GgufValue.uint32(s.ff));
    w.put("llama.attention.head_count", GgufValue.uint32(s.heads));
    w.put("llama.attention.head_count_kv", GgufValue.uint32(s.kvHeads));
    w.put("llama.rope.freq_base", GgufValue.float32(10000f));
    w.put("llama.attention.layer_norm_rms_epsilon", GgufValue.float32(1e-5f));
    w.put("general.file_type", GgufValue.uint32(out.fileType()));
    w.put("llama.vocab_size", GgufValue.uint32(s.vocab));
    w.put("llama.rope.dimension_count", GgufValue.uint32(hd));
    w.put("general.quantization_version", GgufValue.uint32(2));
    List<String> tokens = new ArrayList<>();
    List<Float> scores = new ArrayList<>();
    List<Long> types = new ArrayList<>();
    for (String sp : List.of("<unk>", "<s>", "</s>")) {
      tokens.add(sp);
      scores.add(0f);
      types.add(sp.equals("<unk>") ? 2L : 3L);
    }
    for (int b = 0; b < 256; b++) {
      tokens.add(String.format("<0x%02X>", b));
      scores.add(0f);
      types.add(6L);
    }
    for (int i = tokens.size(); i < s.vocab; i++) {
      tokens.add("\u2581t" + i);
      scores.add((float) -i);
      types.add(1L);
    }
    w.put("tokenizer.ggml.model", GgufValue.string("llama"));
    w.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
    w.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
    w.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
    w.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(1));
    w.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(2));
    Random rnd = new Random(132);
    matrix(w, rules, "token_embd.weight", s.dim, s.vocab, 1.0, rnd);
    for (int l = 0; l < s.layers; l++) {
      String p = "blk." + l + ".";
      norm(w, p + "attn_norm.weight", s.dim, rnd);
      matrix(w, rules, p + "attn_q.weight", s.dim, s.dim, 1.0 / Math.sqrt(s.dim), rnd);
      matrix(w, rules, p + "attn_k.weight", s.dim, s.kvHeads * hd, 1.0 / Math.sqrt(s.dim), rnd);
      matrix(w, rules, p + "attn_v.weight", s.dim, s.kvHeads * hd, 1.0 / Math.sqrt(s.dim), rnd);
      matrix(w, rules, p + "attn_output.weight", s.dim, s.dim, 1.0 / Math.sqrt(s.dim), rnd);
      norm(w, p + "ffn_norm.weight", s.dim, rnd);
      matrix(w, rules, p + "ffn_gate.weight", s.dim, s.ff, 1.0 / Math.sqrt(s.dim), rnd);
      matrix(w, rules, p + "ffn_up.weight", s.dim, s.ff, 1.0 / Math.sqrt(s.dim), rnd);
      matrix(w, rules, p + "ffn_down.weight", s.ff, s.dim, 1.0 / Math.sqrt(s.ff), rnd);
    }
    norm(w, "output_norm.weight", s.dim, rnd);
    matrix(w, rules, "output.weight", s.dim, s.vocab, 1.0 / Math.sqrt(s.dim), rnd);
    w.write(file);
  }

  private static void norm(GgufWriter w, String name, int n, Random rnd) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (1 + 0.1 * rnd.nextGaussian());
    }
    byte[] b = new byte[4 * n];
    GgmlType.F32.quantizeRow(v, 0, n, b, 0);
    w.tensor(name, GgmlType.F32, new long[] {n}, b);
  }

  /** A [cols, rows] matrix whose rows cycle through a pool of random rows quantized with the project's quantizer. */
  private static void matrix(GgufWriter w, QuantRules rules, String name, int cols, int rows, double std, Random rnd) {
    GgmlType type = rules.typeFor(name, cols);
    int pool = 16;
    int rowBytes = (int) type.rowBytes(cols);
    byte[] q = new byte[pool * rowBytes];
    float[] x = new float[cols];
    for (int p = 0; p < pool; p++) {
      for (int i = 0; i < cols; i++) {
        x[i] = (float) (std * rnd.nextGaussian());
      }
      type.quantizeRow(x, 0, cols, q, p * rowBytes);
    }
    w.tensor(name, type, new long[] {cols, rows}, (OutputStream o) -> {
      for (int r = 0; r < rows; r += pool) {
        int n = Math.min(pool, rows - r);
        o.write(q, 0, n * rowBytes);
      }
    });
  }
}

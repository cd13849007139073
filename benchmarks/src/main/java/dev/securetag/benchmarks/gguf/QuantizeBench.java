package dev.securetag.benchmarks.gguf;

import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.SafetensorsWriter;
import dev.securetag.core.internal.Half;
import dev.securetag.gguf.GgufOutType;
import dev.securetag.gguf.GgufQuantizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Quantization throughput of {@link GgufQuantizer} in MB/s of F16 input, per output type with 1 and 2 threads, on a
 * synthetic checkpoint with the matrices of one Llama/Mistral-7B layer (q/o 4096x4096, k/v 1024x4096, gate/up
 * 14336x4096, down 4096x14336), next to memory-copy baselines measured in the same run. The whole converter runs
 * end to end (mmap read, Q/K permutation, F16 rounding, quantization, GGUF write to disk).
 *
 * <p>Args: {@code [rowFraction=0.25] [types=F16,Q8_0,Q4_0,Q6_K,Q4_K_M,Q5_K_M] [threads=1,2]}. A row fraction
 * below 1 keeps every row length (so block shapes are the real ones) and takes that fraction of the rows.
 */
public final class QuantizeBench {
  private QuantizeBench() {}

  public static void main(String[] args) throws IOException {
    double frac = args.length > 0 ? Double.parseDouble(args[0]) : 0.25;
    String[] types = (args.length > 1 ? args[1] : "F16,Q8_0,Q4_0,Q6_K,Q4_K_M,Q5_K_M").split(",");
    String[] threadCounts = (args.length > 2 ? args[2] : "1,2").split(",");
    Path dir = Files.createTempDirectory("quantize-bench");
    try {
      long inputBytes = writeCheckpoint(dir, frac);
      System.out.printf(Locale.ROOT, "checkpoint: %.1f MB of F16 weights (row fraction %.2f), %d CPUs, max heap %d MB%n",
          inputBytes / 1e6, frac, Runtime.getRuntime().availableProcessors(),
          Runtime.getRuntime().maxMemory() >> 20);
      System.out.printf(Locale.ROOT, "memcpy mmap->heap: %.0f MB/s%n", memcpy(dir.resolve("model.safetensors")));
      System.out.printf(Locale.ROOT, "f16->f32 decode of the mmap (scalar): %.0f MB/s%n",
          decode(dir.resolve("model.safetensors")));
      System.out.println("| type | threads | wall s | MB/s (F16 input, wall) | CPU s | MB per CPU-second | output MB |"
          + " peak heap MB |");
      System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
      for (String type : types) {
        for (String tc : threadCounts) {
          int threads = Integer.parseInt(tc);
          Path out = dir.resolve("out-" + type + ".gguf");
          resetPeaks();
          long c0 = cpuNanos();
          long t0 = System.nanoTime();
          GgufQuantizer.builder().baseModel(dir).outType(GgufOutType.valueOf(type)).threads(threads).build().write(out);
          double s = (System.nanoTime() - t0) / 1e9;
          double cpu = (cpuNanos() - c0) / 1e9;
          System.out.printf(Locale.ROOT, "| %s | %d | %.2f | %.1f | %.2f | %.1f | %.1f | %d |%n", type, threads, s,
              inputBytes / 1e6 / s, cpu, inputBytes / 1e6 / cpu, Files.size(out) / 1e6, peakHeap() >> 20);
          Files.delete(out);
        }
      }
    } finally {
      try (Stream<Path> files = Files.list(dir)) {
        for (Path p : (Iterable<Path>) files::iterator) {
          Files.delete(p);
        }
      }
      Files.delete(dir);
    }
  }

  private static long writeCheckpoint(Path dir, double frac) throws IOException {
    int hidden = 4096;
    int ff = 14336;
    int kv = 1024;
    Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"MistralForCausalLM\"], \"hidden_size\": 4096,"
        + " \"num_hidden_layers\": 1, \"num_attention_heads\": 32, \"num_key_value_heads\": 8,"
        + " \"intermediate_size\": 14336, \"max_position_embeddings\": 32768, \"rms_norm_eps\": 1e-05,"
        + " \"rope_theta\": 1000000.0, \"vocab_size\": 259}");
    Files.write(dir.resolve("tokenizer.model"), sentencePiece());
    SafetensorsWriter w = new SafetensorsWriter();
    long[] bytes = {0};
    addRandom(w, "model.embed_tokens.weight", 259, hidden, bytes);
    addRandom(w, "lm_head.weight", 259, hidden, bytes);
    addNorm(w, "model.norm.weight", hidden);
    addNorm(w, "model.layers.0.input_layernorm.weight", hidden);
    addNorm(w, "model.layers.0.post_attention_layernorm.weight", hidden);
    String p = "model.layers.0.";
    // Keep whole heads so the Q/K permutation stays valid: round rows to a multiple of 128.
    addRandom(w, p + "self_attn.q_proj.weight", rows(hidden, frac), hidden, bytes);
    addRandom(w, p + "self_attn.k_proj.weight", rows(kv, frac), hidden, bytes);
    addRandom(w, p + "self_attn.v_proj.weight", rows(kv, frac), hidden, bytes);
    addRandom(w, p + "self_attn.o_proj.weight", rows(hidden, frac), hidden, bytes);
    addRandom(w, p + "mlp.gate_proj.weight", rows(ff, frac), hidden, bytes);
    addRandom(w, p + "mlp.up_proj.weight", rows(ff, frac), hidden, bytes);
    addRandom(w, p + "mlp.down_proj.weight", rows(hidden, frac), ff, bytes);
    w.write(dir.resolve("model.safetensors"));
    return bytes[0];
  }

  private static long rows(int n, double frac) {
    return Math.max(128, Math.round(n * frac / 128) * 128);
  }

  private static void addRandom(SafetensorsWriter w, String name, long rows, long cols, long[] total) {
    total[0] += rows * cols * 2;
    w.add(name, SafetensorsReader.DType.F16, new long[] {rows, cols}, out -> {
      SplittableRandom rnd = new SplittableRandom(name.hashCode());
      ByteBuffer b = ByteBuffer.allocate((int) cols * 2).order(ByteOrder.LITTLE_ENDIAN);
      for (long r = 0; r < rows; r++) {
        b.clear();
        for (long c = 0; c < cols; c++) {
          b.putShort(Half.floatToF16((float) (gauss(rnd) * 0.02)));
        }
        out.write(b.array(), 0, b.position());
      }
    });
  }

  private static double gauss(SplittableRandom rnd) {
    // Sum of uniforms: cheap, roughly normal, enough for realistic block statistics.
    return rnd.nextDouble() + rnd.nextDouble() + rnd.nextDouble() + rnd.nextDouble() - 2.0;
  }

  private static void addNorm(SafetensorsWriter w, String name, int n) {
    float[] ones = new float[n];
    java.util.Arrays.fill(ones, 1f);
    w.addFloats(name, SafetensorsReader.DType.F16, new long[] {n}, ones);
  }

  /** A minimal SentencePiece model: unk, bos, eos and 256 byte pieces. */
  private static byte[] sentencePiece() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<String> pieces = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
    for (int i = 0; i < 256; i++) {
      pieces.add(String.format("<0x%02X>", i));
    }
    for (int i = 0; i < pieces.size(); i++) {
      byte[] text = pieces.get(i).getBytes(StandardCharsets.UTF_8);
      int type = i == 0 ? 2 : i < 3 ? 3 : 6;
      ByteArrayOutputStream m = new ByteArrayOutputStream();
      m.write(0x0A);
      m.write(text.length);
      m.write(text, 0, text.length);
      m.write(0x15);
      m.write(new byte[4], 0, 4);
      m.write(0x18);
      m.write(type);
      byte[] mb = m.toByteArray();
      out.write(0x0A);
      out.write(mb.length);
      out.write(mb, 0, mb.length);
    }
    return out.toByteArray();
  }

  private static double memcpy(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
      byte[] buf = new byte[1 << 22];
      long best = Long.MAX_VALUE;
      for (int rep = 0; rep < 3; rep++) {
        m.position(0);
        long t0 = System.nanoTime();
        while (m.hasRemaining()) {
          m.get(buf, 0, Math.min(buf.length, m.remaining()));
        }
        best = Math.min(best, System.nanoTime() - t0);
      }
      return ch.size() / 1e6 / (best / 1e9);
    }
  }

  private static double decode(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
      m.order(ByteOrder.LITTLE_ENDIAN);
      long n = ch.size() / 2;
      float sink = 0;
      long t0 = System.nanoTime();
      for (long i = 0; i < n; i++) {
        sink += Half.f16ToFloat(m.getShort((int) (2 * i)));
      }
      double s = (System.nanoTime() - t0) / 1e9;
      if (sink == 42) {
        System.out.println();
      }
      return ch.size() / 1e6 / s;
    }
  }

  /** Process CPU time: the machine is shared, so CPU-seconds are a steadier measure than wall time. */
  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static void resetPeaks() {
    System.gc();
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        p.resetPeakUsage();
      }
    }
  }

  private static long peakHeap() {
    long sum = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        sum += p.getPeakUsage().getUsed();
      }
    }
    return sum;
  }
}

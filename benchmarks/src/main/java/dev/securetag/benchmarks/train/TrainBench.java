package dev.securetag.benchmarks.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.securetag.core.Json;
import dev.securetag.core.TrainingExample;
import dev.securetag.train.KernelBackend;
import dev.securetag.train.KernelBackends;
import dev.securetag.train.LlamaModel;
import dev.securetag.train.LoraConfig;
import dev.securetag.train.ModelOptions;
import dev.securetag.train.Nf4Tensor;
import dev.securetag.train.QloraTrainer;
import dev.securetag.train.Quantization;
import dev.securetag.train.TinyLlamaFactory;
import dev.securetag.train.TrainingResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * securetag-train CPU benchmark: NF4 dequantize GB/s (1 and 2 threads) next to a memory copy, LoRA fused matmul
 * GFLOP/s next to DJL's matmul, training throughput / MFU / phase split of a ~20M-parameter model at seq 256, and the
 * memory of NF4 vs fp16 base weights. Args: {@code [steps]} (default 3).
 */
public final class TrainBench {
  private TrainBench() {}

  public static void main(String[] args) throws Exception {
    int steps = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    Locale.setDefault(Locale.ROOT);
    System.out.printf("cores %d, java %s%n", Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"));
    dequant();
    double djlGflops = lora();
    training(steps, djlGflops);
  }

  private static float[] random(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextGaussian());
    }
    return a;
  }

  private static void dequant() {
    int rows = 4096;
    int cols = 4096;
    int n = rows * cols;
    Nf4Tensor t = Nf4Tensor.quantize(random(n, 1), new long[] {rows, cols}, true);
    float[] out = new float[n];
    float[] src = random(n, 2);
    float[] dst = new float[n];
    System.out.printf("%n## NF4 dequantize, %dx%d (%.1f M params), output fp32%n", rows, cols, n / 1e6);
    // memcpy baseline: fp32 copy of the same element count (reads 4 B, writes 4 B per element)
    for (int w = 0; w < 5; w++) {
      System.arraycopy(src, 0, dst, 0, n);
    }
    int reps = 20;
    long t0 = System.nanoTime();
    for (int i = 0; i < reps; i++) {
      System.arraycopy(src, 0, dst, 0, n);
    }
    double copySec = (System.nanoTime() - t0) / 1e9 / reps;
    System.out.printf("memcpy (System.arraycopy fp32): %.2f ms, %.2f GB/s (read+write %d B/elem)%n", copySec * 1e3,
        8.0 * n / copySec / 1e9, 8);
    for (int threads : new int[] {1, 2}) {
      try (KernelBackend kb = KernelBackends.select(KernelBackends.Preference.CPU, threads).backend()) {
        for (int w = 0; w < 3; w++) {
          t.dequantize(kb, out);
        }
        long s = System.nanoTime();
        for (int i = 0; i < reps; i++) {
          t.dequantize(kb, out);
        }
        double sec = (System.nanoTime() - s) / 1e9 / reps;
        double moved = t.bytes() + 4.0 * n;
        System.out.printf("%s: %.2f ms, %.2f GB/s (NF4+DQ in %.3f B/elem + fp32 out 4 B/elem), %.0f M elem/s%n",
            kb.name(), sec * 1e3, moved / sec / 1e9, (double) t.bytes() / n, n / sec / 1e6);
      }
    }
  }

  private static double lora() {
    int rows = 512;
    int in = 1024;
    int out = 1024;
    int rank = 16;
    float[] x = random(rows * in, 3);
    float[] a = random(rank * in, 4);
    float[] b = random(out * rank, 5);
    float[] y = new float[rows * out];
    double loraFlops = 2.0 * rows * in * rank + 2.0 * rows * rank * out + rows * out;
    System.out.printf("%n## LoRA fused y += s*(x A^T) B^T, x %dx%d, r %d, out %d%n", rows, in, rank, out);
    int reps = 20;
    for (int threads : new int[] {1, 2}) {
      try (KernelBackend kb = KernelBackends.select(KernelBackends.Preference.CPU, threads).backend()) {
        for (int w = 0; w < 3; w++) {
          kb.loraMatmul(x, rows, in, a, rank, b, out, 0.5f, y);
        }
        long s = System.nanoTime();
        for (int i = 0; i < reps; i++) {
          kb.loraMatmul(x, rows, in, a, rank, b, out, 0.5f, y);
        }
        double sec = (System.nanoTime() - s) / 1e9 / reps;
        System.out.printf("%s LoRA: %.2f ms, %.2f GFLOP/s%n", kb.name(), sec * 1e3, loraFlops / sec / 1e9);
      }
    }
    double djl;
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      NDArray xa = m.create(x, new Shape(rows, in));
      NDArray aa = m.create(a, new Shape(rank, in));
      NDArray ba = m.create(b, new Shape(out, rank));
      NDArray w = m.create(random(out * in, 6), new Shape(out, in));
      for (int i = 0; i < 3; i++) {
        xa.matMul(w.transpose()).close();
      }
      long s = System.nanoTime();
      for (int i = 0; i < reps; i++) {
        xa.matMul(w.transpose()).close();
      }
      double sec = (System.nanoTime() - s) / 1e9 / reps;
      djl = 2.0 * rows * in * out / sec / 1e9;
      System.out.printf("DJL matmul %dx%d @ %dx%d: %.2f ms, %.2f GFLOP/s%n", rows, in, in, out, sec * 1e3, djl);
      s = System.nanoTime();
      for (int i = 0; i < reps; i++) {
        xa.matMul(aa.transpose()).matMul(ba.transpose()).close();
      }
      sec = (System.nanoTime() - s) / 1e9 / reps;
      System.out.printf("DJL LoRA (two matmuls, same shapes): %.2f ms, %.2f GFLOP/s%n", sec * 1e3,
          (loraFlops - rows * out) / sec / 1e9);
    }
    return djl;
  }

  private static void training(int steps, double djlGflops) throws Exception {
    Path dir = Files.createTempDirectory("train-bench");
    Path base = TinyLlamaFactory.builder().preset20M().seed(1).build().writeTo(dir.resolve("base"));
    System.out.printf("%n## ~20M model (hidden 384, 8 layers, 6 heads / 2 KV, intermediate 1536, vocab 4096)%n");
    long linearParams;
    try (LlamaModel fp = LlamaModel.load(base, ModelOptions.builder().quantization(Quantization.NONE).build());
        LlamaModel q = LlamaModel.load(base, ModelOptions.builder().quantization(Quantization.NF4_DOUBLE_QUANT).build());
        LlamaModel q1 = LlamaModel.load(base, ModelOptions.builder().quantization(Quantization.NF4).build())) {
      LlamaModel.MemoryReport r = q.memoryReport();
      LlamaModel.MemoryReport r1 = q1.memoryReport();
      linearParams = r.linearParams();
      System.out.printf("params %.2f M (linear %.2f M)%n", fp.config().parameterCount() / 1e6, r.linearParams() / 1e6);
      System.out.printf("linear base weights: fp16 %.2f MB, NF4 %.2f MB (%.3f bits/param, %.3fx fp16), NF4+DQ %.2f MB "
              + "(%.3f bits/param, %.3fx fp16)%n", r.linearFp16Bytes() / 1e6, r1.linearBaseBytes() / 1e6,
          r1.linearBitsPerParam(), r1.ratioToFp16(), r.linearBaseBytes() / 1e6, r.linearBitsPerParam(), r.ratioToFp16());
      long embFp16 = r.otherBytes() / 2;
      System.out.printf("whole model incl. embeddings/lm_head/norms kept 16-bit: fp16 %.2f MB vs NF4+DQ %.2f MB = %.3fx%n",
          (r.linearFp16Bytes() + embFp16) / 1e6, (r.linearBaseBytes() + embFp16) / 1e6,
          (double) (r.linearBaseBytes() + embFp16) / (r.linearFp16Bytes() + embFp16));
    }
    // Instruction data long enough that sequences reach the 256-token limit.
    List<String> lines = new ArrayList<>();
    String text = TinyLlamaFactory.defaultCorpus().replace('\n', ' ');
    for (int i = 0; i < 16; i++) {
      int off = (i * 97) % (text.length() / 2);
      lines.add(Json.write(TrainingExample.builder().instruction("Summarise control " + i + ".")
          .output(text.substring(off, Math.min(text.length(), off + 1400))).build()));
    }
    Path data = Files.write(dir.resolve("train.jsonl"), lines);
    try (QloraTrainer t = QloraTrainer.builder().baseModel(base).trainData(data).outputDir(dir.resolve("out"))
        .lora(LoraConfig.builder().r(16).alpha(32).targetModules(List.of(LoraConfig.ALL_LINEAR)).build())
        .batchSize(4).maxSeqLength(256).maxSteps(steps + 1).warmupSteps(1).checkpointEachEpoch(false).build()) {
      TrainingResult r = t.train();
      TrainingResult.PhaseTimes p = r.phaseNanos();
      double total = p.dequantize() + p.forward() + p.backward() + p.optimizer();
      int loraParams = (int) t.model().loraParameterCount();
      // Forward 2 FLOPs per weight per token; backward needs only input gradients of the frozen base (2 more),
      // plus LoRA forward/backward (6 per adapter weight) and attention scores/values (fwd 4*T*d per layer, x2 bwd).
      double seq = 256;
      double attn = 3 * 4 * seq / 2 * t.model().config().hiddenSize() * t.model().config().numHiddenLayers();
      long vocabHead = (long) t.model().config().vocabSize() * t.model().config().hiddenSize();
      double flopsPerToken = 4.0 * (linearParams + vocabHead) + 6.0 * loraParams + attn;
      double achieved = r.tokensPerSecond() * flopsPerToken / 1e9;
      System.out.printf("QLoRA training, batch 4 x seq 256, r 16 all-linear (%d adapter params), %d steps incl. 1 warm-up:%n",
          loraParams, r.steps());
      System.out.printf("tokens/s %.1f, %.2f GFLOP/s model FLOPs (%.2f MFLOP/token), MFU vs DJL matmul %.2f GFLOP/s: %.1f%%%n",
          r.tokensPerSecond(), achieved, flopsPerToken / 1e6, djlGflops, 100 * achieved / djlGflops);
      System.out.printf("phase split: dequantize %.1f%%, forward %.1f%%, backward %.1f%%, optimizer %.1f%% (wall %.1f s)%n",
          100 * p.dequantize() / total, 100 * p.forward() / total, 100 * p.backward() / total,
          100 * p.optimizer() / total, r.wallTime().toMillis() / 1e3);
      System.out.printf("JVM heap used after training: %.1f MB%n",
          (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1e6);
    }
  }
}

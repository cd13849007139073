package dev.securetag.benchmarks.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.securetag.core.TrainingExample;
import dev.securetag.core.internal.Json;
import dev.securetag.testing.TinyLlamaFactory;
import dev.securetag.train.AttentionKernel;
import dev.securetag.train.ComputeDevice;
import dev.securetag.train.KernelBackend;
import dev.securetag.train.KernelBackends;
import dev.securetag.train.LlamaModel;
import dev.securetag.train.LoraConfig;
import dev.securetag.train.MemoryEstimate;
import dev.securetag.train.ModelOptions;
import dev.securetag.train.Nf4Tensor;
import dev.securetag.train.Precision;
import dev.securetag.train.QloraTrainer;
import dev.securetag.train.Quantization;
import dev.securetag.train.TrainingResult;
import dev.securetag.train.internal.DeviceNf4;
import dev.securetag.train.internal.TorchOps;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * securetag-train benchmark, on whatever device DJL's PyTorch engine offers (CPU here, CUDA with a CUDA libtorch):
 * NF4 dequantize GB/s (Java CPU kernel and libtorch ops on the device) next to a memory copy, the dense matmul rate of
 * the device in each precision (the MFU reference), training throughput / MFU / phase split of a ~20M-parameter model
 * (or a larger preset) at seq 256 for each precision and with / without gradient checkpointing, and the memory of NF4
 * vs fp16 base weights. Args: {@code [steps] [device auto|cpu|cuda] [preset 20m|1b] [peakTflops]} (default
 * {@code 3 auto 20m}); {@code peakTflops} (the device's nominal dense bf16 rate) adds MFU against the datasheet.
 */
public final class TrainBench {
  private TrainBench() {}

  public static void main(String[] args) throws Exception {
    int steps = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    ComputeDevice device = args.length > 1 ? ComputeDevice.valueOf(args[1].toUpperCase(Locale.ROOT)) : ComputeDevice.AUTO;
    String preset = args.length > 2 ? args[2] : "20m";
    double peakTflops = args.length > 3 ? Double.parseDouble(args[3]) : 0;
    Locale.setDefault(Locale.ROOT);
    System.out.printf("cores %d, java %s, load average %.2f%n", Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"), java.lang.management.ManagementFactory.getOperatingSystemMXBean()
            .getSystemLoadAverage());
    Device d = device == ComputeDevice.CPU || (device == ComputeDevice.AUTO
        && LlamaModel.cudaUnavailableReason().isPresent()) ? Device.cpu() : Device.gpu(0);
    if (d.isGpu() && LlamaModel.cudaUnavailableReason().isPresent()) {
      throw new IllegalStateException(LlamaModel.cudaUnavailableReason().get());
    }
    System.out.printf("device %s%s%n", d, d.isGpu() ? "" : " (" + LlamaModel.cudaUnavailableReason().orElse("") + ")");
    dequant(d);
    double[] matmul = matmulRates(d);
    training(steps, d, preset, matmul, peakTflops);
  }

  private static float[] random(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextGaussian());
    }
    return a;
  }

  private static void sync(NDArray a) {
    // Reading one element waits for the device's queue, so timings on CUDA cover the work, not the launch.
    a.reshape(-1).get(0).toType(DataType.FLOAT32, false).getFloat();
  }

  private static void dequant(Device d) {
    int rows = 4096;
    int cols = 4096;
    int n = rows * cols;
    Nf4Tensor t = Nf4Tensor.quantize(random(n, 1), new long[] {rows, cols}, true);
    float[] out = new float[n];
    float[] src = random(n, 2);
    float[] dst = new float[n];
    System.out.printf("%n## NF4 dequantize, %dx%d (%.1f M params), NF4+DQ in (%.3f B/elem), fp32 out%n", rows, cols,
        n / 1e6, (double) t.bytes() / n);
    for (int w = 0; w < 5; w++) {
      System.arraycopy(src, 0, dst, 0, n);
    }
    int reps = 20;
    long t0 = System.nanoTime();
    for (int i = 0; i < reps; i++) {
      System.arraycopy(src, 0, dst, 0, n);
    }
    double copySec = (System.nanoTime() - t0) / 1e9 / reps;
    System.out.printf("memcpy (System.arraycopy fp32): %.2f ms, %.2f GB/s (read+write 8 B/elem)%n", copySec * 1e3,
        8.0 * n / copySec / 1e9);
    double moved = t.bytes() + 4.0 * n;
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
        System.out.printf("Java %s into a float[]: %.2f ms, %.2f GB/s%n", kb.name(), sec * 1e3, moved / sec / 1e9);
      }
    }
    try (NDManager m = NDManager.newBaseManager(d)) {
      DeviceNf4 dn = DeviceNf4.of(t, m, new DeviceNf4.Tables(m));
      for (int w = 0; w < 3; w++) {
        try (ai.djl.ndarray.NDScope s = new ai.djl.ndarray.NDScope()) {
          s.suppressNotUsedWarning();
          sync(dn.dequantize(DataType.FLOAT32));
        }
      }
      long s0 = System.nanoTime();
      for (int i = 0; i < reps; i++) {
        try (ai.djl.ndarray.NDScope s = new ai.djl.ndarray.NDScope()) {
          s.suppressNotUsedWarning();
          sync(dn.dequantize(DataType.FLOAT32));
        }
      }
      double sec = (System.nanoTime() - s0) / 1e9 / reps;
      System.out.printf("libtorch ops on %s (device-resident; what CUDA training uses): %.2f ms, %.2f GB/s%n", d, sec * 1e3,
          moved / sec / 1e9);
    }
  }

  /** Dense matmul rate (GFLOP/s) of the device for fp32, bf16, fp16, 2048x2048 @ 2048x2048 (1024 rows on CPU). */
  private static double[] matmulRates(Device d) {
    int rows = d.isGpu() ? 8192 : 1024;
    int in = d.isGpu() ? 8192 : 1024;
    int out = d.isGpu() ? 8192 : 1024;
    double[] rates = new double[3];
    String[] names = {"fp32", "bf16", "fp16"};
    System.out.printf("%n## dense matmul %dx%d @ %dx%d on %s (the MFU reference)%n", rows, in, in, out, d);
    try (NDManager m = NDManager.newBaseManager(d)) {
      NDArray x = m.randomNormal(new Shape(rows, in));
      NDArray w = m.randomNormal(new Shape(out, in));
      for (int p = 0; p < 3; p++) {
        try (TorchOps ops = new TorchOps(m, DataType.FLOAT32, names[p])) {
          int reps = d.isGpu() ? 20 : 10;
          for (int i = 0; i < 5; i++) {
            try (ai.djl.ndarray.NDScope s = new ai.djl.ndarray.NDScope()) {
              s.suppressNotUsedWarning();
              sync(p == 0 ? x.matMul(w.transpose()) : ops.linear(x, w));
            }
          }
          long s0 = System.nanoTime();
          for (int i = 0; i < reps; i++) {
            try (ai.djl.ndarray.NDScope s = new ai.djl.ndarray.NDScope()) {
              s.suppressNotUsedWarning();
              sync(p == 0 ? x.matMul(w.transpose()) : ops.linear(x, w));
            }
          }
          double sec = (System.nanoTime() - s0) / 1e9 / reps;
          rates[p] = 2.0 * rows * in * out / sec / 1e9;
          System.out.printf("%s: %.2f ms, %.1f GFLOP/s%s%n", names[p], sec * 1e3, rates[p],
              p == 0 ? "" : " (incl. the casts of x and W inside the op)");
        }
      }
    }
    return rates;
  }

  private static void training(int steps, Device d, String preset, double[] matmul, double peakTflops)
      throws Exception {
    Path dir = Files.createTempDirectory("train-bench");
    TinyLlamaFactory.Builder fb = TinyLlamaFactory.builder().seed(1);
    if (preset.equals("1b")) {
      // Llama-like 1.1B (TinyLlama's shape): hidden 2048, 22 layers, 32 / 4 heads, intermediate 5632, vocab 32000.
      fb = fb.hiddenSize(2048).layers(22).heads(32).kvHeads(4).intermediateSize(5632).vocabSize(32000)
          .maxPositions(2048);
    } else {
      fb = fb.preset20M();
    }
    Path base = fb.build().writeTo(dir.resolve("base"));
    int seq = preset.equals("1b") ? 1024 : 256;
    int batch = 4;
    long linearParams;
    long loraParams;
    long vocabHead;
    int hidden;
    int layers;
    try (LlamaModel q = LlamaModel.load(base, ModelOptions.builder().device(ComputeDevice.CPU)
        .quantization(Quantization.NF4_DOUBLE_QUANT).build())) {
      LlamaModel.MemoryReport r = q.memoryReport();
      linearParams = r.linearParams();
      vocabHead = (long) q.config().vocabSize() * q.config().hiddenSize();
      hidden = q.config().hiddenSize();
      layers = q.config().numHiddenLayers();
      System.out.printf("%n## %s model: %.2f M params (linear %.2f M); hidden %d, %d layers, vocab %d%n", preset,
          q.config().parameterCount() / 1e6, linearParams / 1e6, hidden, layers, q.config().vocabSize());
      System.out.printf("linear base weights: fp16 %.2f MB, NF4+DQ %.2f MB (%.3f bits/param, %.3fx fp16)%n",
          r.linearFp16Bytes() / 1e6, r.linearBaseBytes() / 1e6, r.linearBitsPerParam(), r.ratioToFp16());
      LoraConfig lc = LoraConfig.builder().r(16).alpha(32).targetModules(List.of(LoraConfig.ALL_LINEAR)).build();
      q.addLora(lc, 1);
      loraParams = q.loraParameterCount();
      MemoryEstimate.Breakdown est = MemoryEstimate.estimate(q.config(), lc, new MemoryEstimate.Run(batch, seq,
          Quantization.NF4_DOUBLE_QUANT, Precision.FP32, true, AttentionKernel.SDPA));
      System.out.printf("memory model, batch %d x seq %d, fp32, checkpointing: %s%n", batch, seq, est);
    }
    List<String> lines = new ArrayList<>();
    String text = TinyLlamaFactory.defaultCorpus().replace('\n', ' ');
    for (int i = 0; i < 16; i++) {
      int off = (i * 97) % (text.length() / 2);
      lines.add(Json.write(TrainingExample.builder().instruction("Summarise control " + i + ".")
          .output(text.substring(off, Math.min(text.length(), off + 1400))).build()));
    }
    Path data = Files.write(dir.resolve("train.jsonl"), lines);
    // Forward 2 FLOPs per weight per token; backward only input gradients of the frozen base (2 more), LoRA
    // forward/backward 6 per adapter weight, attention scores/values 4*T*d per layer forward (causal half), x2 in
    // backward. Model FLOPs (MFU) leave out the recompute of checkpointing; hardware FLOPs (HFU) add it.
    double attn = 3 * 4 * seq / 2.0 * hidden * layers;
    double flopsPerToken = 4.0 * (linearParams + vocabHead) + 6.0 * loraParams + attn;
    double recompute = 2.0 * linearParams + 2.0 * loraParams + 4 * seq / 2.0 * hidden * layers;
    System.out.printf("model FLOPs %.2f MFLOP/token (+ %.2f recomputed with checkpointing)%n", flopsPerToken / 1e6,
        recompute / 1e6);
    Precision[] precisions = d.isGpu() ? new Precision[] {Precision.BF16, Precision.FP16, Precision.FP32}
        : new Precision[] {Precision.FP32, Precision.BF16};
    System.out.printf("%n| device | precision | checkpointing | tokens/s | model GFLOP/s | MFU vs measured matmul |%s"
        + " dequant / fwd / bwd / optimizer %% | wall s |%n", peakTflops > 0 ? " MFU vs datasheet |" : "");
    for (Precision p : precisions) {
      for (boolean ckpt : new boolean[] {true, false}) {
        try (QloraTrainer t = QloraTrainer.builder().baseModel(base).trainData(data)
            .outputDir(dir.resolve("out-" + p + ckpt))
            .lora(LoraConfig.builder().r(16).alpha(32).targetModules(List.of(LoraConfig.ALL_LINEAR)).build())
            .batchSize(batch).maxSeqLength(seq).maxSteps(steps + 1).warmupSteps(1).checkpointEachEpoch(false)
            .device(d.isGpu() ? ComputeDevice.CUDA : ComputeDevice.CPU).precision(p).gradientCheckpointing(ckpt)
            .build()) {
          TrainingResult r = t.train();
          TrainingResult.PhaseTimes ph = r.phaseNanos();
          double total = ph.dequantize() + ph.forward() + ph.backward() + ph.optimizer();
          double achieved = r.tokensPerSecond() * flopsPerToken / 1e9;
          double ref = matmul[p == Precision.FP32 ? 0 : p == Precision.BF16 ? 1 : 2];
          System.out.printf("| %s | %s | %s | %.1f | %.2f | %.1f %% of %.1f |%s %.1f / %.1f / %.1f / %.1f | %.1f |%n",
              r.setup().device(), r.setup().precision(), ckpt ? "on" : "off", r.tokensPerSecond(), achieved,
              100 * achieved / ref, ref, peakTflops > 0 ? String.format(" %.1f %% |", 100 * achieved / (peakTflops * 1e3))
                  : "", 100 * ph.dequantize() / total, 100 * ph.forward() / total, 100 * ph.backward() / total,
              100 * ph.optimizer() / total, r.wallTime().toMillis() / 1e3);
        }
      }
    }
    System.out.printf("(%d steps + 1 warm-up each, batch %d x seq %d, r 16 all-linear = %d adapter params; tokens/s of"
        + " the whole run incl. warm-up)%n", steps, batch, seq, loraParams);
    System.out.printf("JVM heap used at the end: %.1f MB%n",
        (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1e6);
  }
}

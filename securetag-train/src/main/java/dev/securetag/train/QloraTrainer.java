package dev.securetag.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.HfConfig;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.ProgressListener;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.SafetensorsWriter;
import dev.securetag.core.internal.AtomicFiles;
import dev.securetag.core.internal.Json;
import dev.securetag.train.internal.DecoderForward;
import dev.securetag.train.internal.Jsonl;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * QLoRA fine-tuning of a Hugging Face Llama/Mistral/Mixtral checkpoint in Java: NF4 frozen base, LoRA adapters,
 * response-only loss on Alpaca/chat JSONL, AdamW with decoupled weight decay, global-norm clipping, warmup +
 * schedule, gradient accumulation, evaluation, atomic checkpoints with exact resume, early stopping, and PEFT /
 * merged exports. Holds the model: close it.
 *
 * <pre>{@code
 * try (QloraTrainer t = QloraTrainer.builder().baseModel(base).trainData(jsonl).outputDir(out)
 *     .lora(LoraConfig.builder().r(16).alpha(32).build()).epochs(3).build()) {
 *   TrainingResult r = t.train();
 *   t.mergeAndSave(out.resolve("merged"));
 * }
 * }</pre>
 */
public final class QloraTrainer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(QloraTrainer.class);
  private static final int IGNORE = DecoderForward.IGNORE;

  private final Builder cfg;
  private final LlamaModel model;
  private final List<Seq> train;
  private final List<Seq> validation;
  private final int truncated;
  private final int dropped;
  private final List<String> skippedLines;
  private final List<NDArray> params;
  private final float[][] master;
  private final float[][] adamM;
  private final float[][] adamV;
  private final java.nio.ByteBuffer[] paramBuffers;
  private final List<Double> stepLosses = new ArrayList<>();
  private final List<Double> evalLosses = new ArrayList<>();
  private final List<Double> lrs = new ArrayList<>();
  private int globalStep;
  private int epoch;
  private int microInEpoch;
  private double bestEval = Double.POSITIVE_INFINITY;
  private int evalsWithoutImprovement;
  private boolean closed;
  /** fp16 dynamic loss scaling (1 otherwise): as torch.cuda.amp.GradScaler with its default settings. */
  private double lossScale;
  private int stepsSinceOverflow;
  private int skippedSteps;
  private static final double INITIAL_LOSS_SCALE = 65536.0;
  private static final int LOSS_SCALE_GROWTH_INTERVAL = 2000;
  /**
   * Test hook called with a stage and the step while a checkpoint is written: {@code adapter-written},
   * {@code optimizer-written}, {@code before-rename} (lets tests fail the disk or kill the JVM mid-write).
   */
  java.util.function.ObjIntConsumer<String> checkpointStage = (stage, step) -> {};

  /** A tokenized example: ids and the shifted targets (IGNORE outside the response). */
  record Seq(int[] ids, int[] targets, int lossTokens, int[] segments) {}

  private QloraTrainer(Builder b) {
    this.cfg = b;
    this.model = LlamaModel.load(b.baseModel, ModelOptions.builder().quantization(b.quantization)
        .kernels(b.kernels).device(b.device).precision(b.precision).attention(b.attention).build());
    this.lossScale = model.precision() == Precision.FP16 ? INITIAL_LOSS_SCALE : 1.0;
    boolean ok = false;
    try {
      if (b.adapter != null) {
        model.loadAdapter(b.adapter);
      } else {
        model.addLora(b.lora, b.seed);
      }
      int[] counts = new int[2];
      List<String> skipped = new ArrayList<>();
      Jsonl.Result tr = Jsonl.read(b.trainData, b.skipMalformedLines);
      skipped.addAll(tr.skipped());
      List<Seq> tokenized = tokenize(tr.examples(), counts);
      this.train = b.packing ? pack(tokenized, b.maxSeqLength) : tokenized;
      if (train.isEmpty()) {
        throw new InvalidInputException(b.trainData.toString(), "every example is longer than maxSeqLength "
            + b.maxSeqLength + " (no response token fits)");
      }
      if (b.validationData != null) {
        Jsonl.Result va = Jsonl.read(b.validationData, b.skipMalformedLines);
        skipped.addAll(va.skipped());
        this.validation = tokenize(va.examples(), new int[2]);
      } else {
        this.validation = List.of();
      }
      this.truncated = counts[0];
      this.dropped = counts[1];
      this.skippedLines = List.copyOf(skipped);
      this.params = model.weights().loraParameters();
      this.master = new float[params.size()][];
      this.adamM = new float[params.size()][];
      this.adamV = new float[params.size()][];
      this.paramBuffers = new java.nio.ByteBuffer[params.size()];
      for (int i = 0; i < params.size(); i++) {
        master[i] = params.get(i).toFloatArray();
        adamM[i] = new float[master[i].length];
        adamV[i] = new float[master[i].length];
        paramBuffers[i] = java.nio.ByteBuffer.allocateDirect(4 * master[i].length).order(java.nio.ByteOrder.nativeOrder());
      }
      ok = true;
    } finally {
      if (!ok) {
        model.close();
      }
    }
    LOG.info("QLoRA on {}: {} train / {} validation examples ({} truncated, {} dropped), {} trainable params, device {}, "
        + "{} matmuls, {} attention, gradient checkpointing {}", b.baseModel, train.size(), validation.size(), truncated,
        dropped, model.loraParameterCount(), model.deviceName(), model.precision(), model.attention(),
        b.gradientCheckpointing ? "on" : "off");
  }

  private List<Seq> tokenize(List<Jsonl.Example> examples, int[] counts) {
    List<Seq> out = new ArrayList<>();
    HfConfig c = model.config();
    int eos = c.eosTokenIds().get(0);
    for (Jsonl.Example e : examples) {
      String prompt = PromptTemplate.prompt(e.instruction(), e.input());
      int[] p = model.encode(prompt);
      int[] full = model.encode(prompt + e.output());
      int[] resp;
      if (full.length > p.length && Arrays.equals(Arrays.copyOf(full, p.length), p)) {
        resp = Arrays.copyOfRange(full, p.length, full.length);
      } else {
        resp = model.encode(e.output());
      }
      int n = 1 + p.length + resp.length + 1;
      int[] ids = new int[n];
      ids[0] = c.bosTokenId();
      System.arraycopy(p, 0, ids, 1, p.length);
      System.arraycopy(resp, 0, ids, 1 + p.length, resp.length);
      ids[n - 1] = eos;
      int respStart = 1 + p.length;
      if (n > cfg.maxSeqLength) {
        counts[0]++;
        ids = Arrays.copyOf(ids, cfg.maxSeqLength);
        n = ids.length;
        if (respStart >= n) {
          counts[1]++;
          LOG.warn("{}: prompt alone exceeds maxSeqLength {}; example left out", e.location(), cfg.maxSeqLength);
          continue;
        }
      }
      int[] targets = new int[n];
      int lossTokens = 0;
      for (int t = 0; t < n; t++) {
        int next = t + 1;
        if (next < n && next >= respStart) {
          targets[t] = ids[next];
          lossTokens++;
        } else {
          targets[t] = IGNORE;
        }
      }
      out.add(new Seq(ids, targets, lossTokens, null));
    }
    return out;
  }

  /**
   * First-fit packing in dataset order: examples share a row up to maxSeqLength; each keeps its own positions and
   * attends only to itself, and the position before the next example's BOS is already excluded from the loss.
   */
  private static List<Seq> pack(List<Seq> seqs, int max) {
    List<List<Seq>> bins = new ArrayList<>();
    List<Integer> used = new ArrayList<>();
    for (Seq s : seqs) {
      int bin = -1;
      for (int i = 0; i < bins.size(); i++) {
        if (used.get(i) + s.ids().length <= max) {
          bin = i;
          break;
        }
      }
      if (bin < 0) {
        bins.add(new ArrayList<>());
        used.add(0);
        bin = bins.size() - 1;
      }
      bins.get(bin).add(s);
      used.set(bin, used.get(bin) + s.ids().length);
    }
    List<Seq> out = new ArrayList<>();
    for (int i = 0; i < bins.size(); i++) {
      int n = used.get(i);
      int[] ids = new int[n];
      int[] targets = new int[n];
      int[] segments = new int[n];
      int off = 0;
      int loss = 0;
      int doc = 0;
      for (Seq s : bins.get(i)) {
        System.arraycopy(s.ids(), 0, ids, off, s.ids().length);
        System.arraycopy(s.targets(), 0, targets, off, s.ids().length);
        Arrays.fill(segments, off, off + s.ids().length, doc++);
        off += s.ids().length;
        loss += s.lossTokens();
      }
      out.add(new Seq(ids, targets, loss, segments));
    }
    return out;
  }

  /** The tokenized training examples (for tests of masking). */
  List<Seq> trainSequences() {
    return train;
  }

  /** Starts configuring a trainer. */
  public static Builder builder() {
    return new Builder();
  }

  /** The model being trained (base + adapters). */
  public LlamaModel model() {
    ensureOpen();
    return model;
  }

  private int microBatchesPerEpoch() {
    return (train.size() + cfg.batchSize - 1) / cfg.batchSize;
  }

  private int stepsPerEpoch() {
    return (microBatchesPerEpoch() + cfg.gradientAccumulation - 1) / cfg.gradientAccumulation;
  }

  /** Optimizer steps of the whole run (epochs × steps per epoch, or maxSteps when set). */
  public int totalSteps() {
    return cfg.maxSteps > 0 ? cfg.maxSteps : cfg.epochs * stepsPerEpoch();
  }

  private int[] epochOrder(int e) {
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < train.size(); i++) {
      idx.add(i);
    }
    Collections.shuffle(idx, new Random(cfg.seed * 1_000_003L + e));
    return idx.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Trains from the start (or from the state a {@link #resume} restored). */
  public TrainingResult train() {
    ensureOpen();
    long start = System.nanoTime();
    long[] phase = new long[5];
    long tokens = 0;
    int total = totalSteps();
    List<Path> checkpoints = new ArrayList<>();
    boolean stoppedEarly = false;
    int micro = microBatchesPerEpoch();
    outer:
    while ((cfg.maxSteps > 0 || epoch < cfg.epochs) && globalStep < total) {
      int[] order = epochOrder(epoch);
      while (microInEpoch < micro && globalStep < total) {
        int cycleEnd = Math.min(micro, microInEpoch + cfg.gradientAccumulation);
        List<List<Seq>> batches = new ArrayList<>();
        int cycleTokens = 0;
        for (int mb = microInEpoch; mb < cycleEnd; mb++) {
          List<Seq> batch = new ArrayList<>();
          for (int i = mb * cfg.batchSize; i < Math.min(train.size(), (mb + 1) * cfg.batchSize); i++) {
            Seq s = train.get(order[i]);
            batch.add(s);
            cycleTokens += s.lossTokens();
          }
          batches.add(batch);
        }
        double lossSum = 0;
        for (int k = 0; k < batches.size(); k++) {
          long globalMicro = (long) epoch * micro + microInEpoch + k;
          SplittableRandom drop = new SplittableRandom(cfg.seed * 7_919L + globalMicro);
          long[] stats = new long[4];
          lossSum += backwardMicroBatch(batches.get(k), cycleTokens, drop, stats);
          phase[1] += stats[0];
          phase[2] += stats[1];
          phase[0] += stats[3];
          tokens += stats[2];
        }
        long t3 = System.nanoTime();
        double lr = cfg.learningRate * cfg.scheduler.factor(globalStep, cfg.warmupSteps, total);
        optimizerStep(lr);
        phase[3] += System.nanoTime() - t3;
        microInEpoch = cycleEnd;
        globalStep++;
        double loss = lossSum / cycleTokens;
        if (!Double.isFinite(loss)) {
          throw new IllegalStateException("training diverged at step " + (globalStep + 1) + ": loss " + loss
              + " (lower the learning rate)");
        }
        stepLosses.add(loss);
        lrs.add(lr);
        if (cfg.evalSteps > 0 && globalStep % cfg.evalSteps == 0 && !validation.isEmpty()) {
          long e0 = System.nanoTime();
          boolean stop = evaluate();
          phase[4] += System.nanoTime() - e0;
          if (stop) {
            stoppedEarly = true;
          }
        }
        if (cfg.checkpointSteps > 0 && globalStep % cfg.checkpointSteps == 0) {
          checkpoints.add(saveCheckpoint());
        }
        // Reported after the checkpoint, so a listener that interrupts the run leaves this step's state on disk.
        cfg.listener.onProgress(new ProgressListener.Progress("train", globalStep, total, "steps",
            String.format("epoch %d loss %.4f lr %.3g", epoch + 1, loss, lr)));
        if (stoppedEarly) {
          break outer;
        }
      }
      if (microInEpoch >= micro) {
        epoch++;
        microInEpoch = 0;
        if (cfg.evalSteps <= 0 && !validation.isEmpty()) {
          long e0 = System.nanoTime();
          boolean stop = evaluate();
          phase[4] += System.nanoTime() - e0;
          if (stop) {
            stoppedEarly = true;
          }
        }
        if (cfg.checkpointEachEpoch) {
          checkpoints.add(saveCheckpoint());
        }
        if (stoppedEarly) {
          break;
        }
      }
    }
    cfg.listener.onPhaseEnd("train");
    Path adapterDir = cfg.outputDir.resolve("adapter");
    model.saveAdapter(adapterDir);
    long wall = System.nanoTime() - start;
    double tps = tokens / Math.max(1e-9, (wall - phase[4]) / 1e9);
    LOG.info("trained {} steps, final loss {}, {} tokens/s, adapter at {}", globalStep,
        stepLosses.isEmpty() ? "n/a" : String.format("%.4f", stepLosses.get(stepLosses.size() - 1)),
        String.format("%.1f", tps), adapterDir);
    return new TrainingResult(List.copyOf(stepLosses), List.copyOf(evalLosses), List.copyOf(lrs), globalStep,
        stoppedEarly, tokens, tps, Duration.ofNanos(wall),
        new TrainingResult.PhaseTimes(phase[0], phase[1], phase[2], phase[3], phase[4]), truncated, dropped,
        skippedLines, adapterDir, List.copyOf(checkpoints),
        new TrainingResult.Setup(model.deviceName(), model.precision(), model.attention(), cfg.gradientCheckpointing,
            lossScale, skippedSteps));
  }

  /**
   * Forward + backward of one micro-batch; the summed loss is divided by the response tokens of the whole
   * accumulation cycle, so accumulated gradients equal those of one large batch. Returns the summed NLL; stats
   * receives forward nanos (without dequantization), backward nanos and tokens.
   */
  private double backwardMicroBatch(List<Seq> batch, int cycleTokens, SplittableRandom drop, long[] stats) {
    Padded pb = pad(batch);
    DecoderForward.TrainStep r = model.decoder().trainBackward(pb.ids, pb.lengths, pb.segments, pb.targets, drop,
        lossScale / cycleTokens, cfg.gradientCheckpointing);
    stats[0] = r.forwardNanos() - r.forwardDequantNanos();
    stats[1] = r.backwardNanos() - r.backwardDequantNanos();
    stats[2] = pb.realTokens;
    stats[3] = r.forwardDequantNanos() + r.backwardDequantNanos();
    return r.nllSum();
  }

  /** Gradients of one accumulation cycle over the given micro-batches of training examples (for tests). */
  float[][] cycleGradients(List<int[]> microBatches) {
    int cycleTokens = 0;
    List<List<Seq>> batches = new ArrayList<>();
    for (int[] mb : microBatches) {
      List<Seq> b = new ArrayList<>();
      for (int i : mb) {
        b.add(train.get(i));
        cycleTokens += train.get(i).lossTokens();
      }
      batches.add(b);
    }
    for (List<Seq> b : batches) {
      backwardMicroBatch(b, cycleTokens, null, new long[4]);
    }
    return takeGradients();
  }

  private float[][] takeGradients() {
    float[][] grads = new float[params.size()][];
    for (int i = 0; i < params.size(); i++) {
      NDArray g = params.get(i).getGradient();
      grads[i] = g.toType(DataType.FLOAT32, false).toFloatArray();
      g.muli(0);
      g.close();
    }
    return grads;
  }

  private record Padded(int[][] ids, int[] lengths, int[][] targets, int[][] segments, long realTokens) {}

  private static Padded pad(List<Seq> batch) {
    int max = batch.stream().mapToInt(s -> s.ids().length).max().orElse(0);
    int[][] ids = new int[batch.size()][max];
    int[][] targets = new int[batch.size()][max];
    int[] lengths = new int[batch.size()];
    boolean packed = batch.stream().anyMatch(s -> s.segments() != null);
    int[][] segments = packed ? new int[batch.size()][max] : null;
    long real = 0;
    for (int i = 0; i < batch.size(); i++) {
      Seq s = batch.get(i);
      System.arraycopy(s.ids(), 0, ids[i], 0, s.ids().length);
      Arrays.fill(targets[i], IGNORE);
      System.arraycopy(s.targets(), 0, targets[i], 0, s.targets().length);
      lengths[i] = s.ids().length;
      real += s.ids().length;
      if (packed) {
        Arrays.fill(segments[i], -1);
        if (s.segments() != null) {
          System.arraycopy(s.segments(), 0, segments[i], 0, s.segments().length);
        } else {
          Arrays.fill(segments[i], 0, s.ids().length, 0);
        }
      }
    }
    return new Padded(ids, lengths, targets, segments, real);
  }

  /**
   * AdamW as torch.optim.AdamW (decoupled decay {@code p -= lr·wd·p}, bias-corrected moments) on fp32 master
   * weights, after clipping the global gradient norm (DJL's own clip only clamps from above).
   */
  private void optimizerStep(double lr) {
    float[][] grads = takeGradients();
    double sq = 0;
    for (float[] g : grads) {
      for (float x : g) {
        sq += (double) x * x;
      }
    }
    if (lossScale != 1.0 || model.precision() == Precision.FP16) {
      if (!Double.isFinite(sq)) {
        // fp16 overflow somewhere in backward: skip the update and halve the scale (GradScaler's backoff).
        lossScale /= 2;
        stepsSinceOverflow = 0;
        skippedSteps++;
        LOG.info("step {}: fp16 gradient overflow, update skipped, loss scale now {}", globalStep + 1, lossScale);
        return;
      }
      double inv = 1.0 / lossScale;
      for (float[] g : grads) {
        for (int j = 0; j < g.length; j++) {
          g[j] = (float) (g[j] * inv);
        }
      }
      sq *= inv * inv;
      if (++stepsSinceOverflow >= LOSS_SCALE_GROWTH_INTERVAL) {
        lossScale *= 2;
        stepsSinceOverflow = 0;
      }
    }
    double norm = Math.sqrt(sq);
    double clip = cfg.maxGradNorm > 0 ? Math.min(1.0, cfg.maxGradNorm / (norm + 1e-6)) : 1.0;
    int t = globalStep + 1;
    double b1 = cfg.beta1;
    double b2 = cfg.beta2;
    double bc1 = 1 - Math.pow(b1, t);
    double bc2 = 1 - Math.pow(b2, t);
    for (int i = 0; i < params.size(); i++) {
      float[] p = master[i];
      float[] m = adamM[i];
      float[] v = adamV[i];
      float[] g = grads[i];
      for (int j = 0; j < p.length; j++) {
        double gj = g[j] * clip;
        double pj = p[j] * (1 - lr * cfg.weightDecay);
        double mj = b1 * m[j] + (1 - b1) * gj;
        double vj = b2 * v[j] + (1 - b2) * gj * gj;
        m[j] = (float) mj;
        v[j] = (float) vj;
        p[j] = (float) (pj - lr * (mj / bc1) / (Math.sqrt(vj / bc2) + cfg.epsilon));
      }
      writeParam(i);
    }
  }

  /**
   * DJL's {@code set} makes the tensor alias the given direct buffer, so each parameter gets one buffer for the
   * trainer's lifetime instead of a fresh one per step that the garbage collector could free under the tensor.
   */
  private void writeParam(int i) {
    java.nio.ByteBuffer b = paramBuffers[i];
    b.clear();
    b.asFloatBuffer().put(master[i]);
    params.get(i).set(b);
  }

  /** Validation loss per response token; returns true when early stopping should end the run. */
  private boolean evaluate() {
    double nll = 0;
    long count = 0;
    for (int i = 0; i < validation.size(); i += cfg.batchSize) {
      List<Seq> batch = validation.subList(i, Math.min(validation.size(), i + cfg.batchSize));
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        Padded pb = pad(batch);
        nll += DecoderForward.noGrad(() -> model.decoder().nllSum(pb.ids, pb.lengths, pb.segments, pb.targets, null)
            .toType(DataType.FLOAT64, false).getDouble());
      }
      for (Seq s : batch) {
        count += s.lossTokens();
      }
    }
    double loss = nll / Math.max(1, count);
    evalLosses.add(loss);
    LOG.info("step {} eval loss {} perplexity {}", globalStep, String.format("%.4f", loss),
        String.format("%.3f", Math.exp(loss)));
    cfg.listener.onProgress(new ProgressListener.Progress("eval", evalLosses.size(), -1, "evals",
        String.format("eval loss %.4f ppl %.3f", loss, Math.exp(loss))));
    for (int k = 0; k < Math.min(cfg.sampleGenerations, validation.size()); k++) {
      Seq s = validation.get(k);
      int promptEnd = 0;
      while (promptEnd < s.targets().length && s.targets()[promptEnd] == IGNORE) {
        promptEnd++;
      }
      int[] prompt = Arrays.copyOf(s.ids(), promptEnd + 1);
      LOG.info("sample {}: {}", k, model.decode(model.generate(prompt, GenerationConfig.greedy(48))));
    }
    if (loss < bestEval - cfg.earlyStoppingMinDelta) {
      bestEval = loss;
      evalsWithoutImprovement = 0;
      return false;
    }
    evalsWithoutImprovement++;
    return cfg.earlyStoppingPatience > 0 && evalsWithoutImprovement >= cfg.earlyStoppingPatience;
  }

  // ------------------------------------------------------------------------------------------------ checkpoints

  /**
   * Writes {@code outputDir/checkpoint-<step>/} (PEFT adapter, optimizer moments, trainer state) into a temporary
   * directory first and renames it into place, so a failure (e.g. a full disk) leaves earlier checkpoints intact and
   * never a half-written one under the final name.
   */
  private Path saveCheckpoint() {
    Path target = cfg.outputDir.resolve("checkpoint-" + globalStep);
    Path tmp = cfg.outputDir.resolve(".checkpoint-" + globalStep + ".tmp");
    try {
      deleteTree(tmp);
      Files.createDirectories(tmp);
      model.saveAdapter(tmp);
      checkpointStage.accept("adapter-written", globalStep);
      SafetensorsWriter opt = new SafetensorsWriter();
      for (int i = 0; i < params.size(); i++) {
        long[] shape = params.get(i).getShape().getShape();
        opt.addF32(String.format("param.%04d.exp_avg", i), shape, adamM[i]);
        opt.addF32(String.format("param.%04d.exp_avg_sq", i), shape, adamV[i]);
      }
      opt.write(tmp.resolve("optimizer.safetensors"));
      checkpointStage.accept("optimizer-written", globalStep);
      ObjectNode st = Json.object();
      st.put("global_step", globalStep);
      st.put("epoch", epoch);
      st.put("micro_batch_in_epoch", microInEpoch);
      st.put("seed", cfg.seed);
      st.put("best_eval_loss", Double.isInfinite(bestEval) ? null : bestEval);
      st.put("evals_without_improvement", evalsWithoutImprovement);
      st.put("loss_scale", lossScale);
      st.put("steps_since_overflow", stepsSinceOverflow);
      st.put("skipped_steps", skippedSteps);
      st.put("total_steps", totalSteps());
      st.put("train_examples", train.size());
      ArrayNode losses = st.putArray("step_losses");
      stepLosses.forEach(losses::add);
      ArrayNode evals = st.putArray("eval_losses");
      evalLosses.forEach(evals::add);
      ArrayNode lr = st.putArray("learning_rates");
      lrs.forEach(lr::add);
      AtomicFiles.writeString(tmp.resolve("trainer_state.json"), Json.write(st));
      checkpointStage.accept("before-rename", globalStep);
      deleteTree(target);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target);
      }
    } catch (IOException | UncheckedIOException e) {
      try {
        deleteTree(tmp);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new UncheckedIOException("cannot write checkpoint " + target + "; earlier checkpoints are intact",
          e instanceof IOException io ? io : ((UncheckedIOException) e).getCause());
    }
    LOG.info("checkpoint {}", target);
    return target;
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }

  /**
   * Restores adapter weights, optimizer moments, step, epoch, data position and history from a checkpoint written by
   * a trainer with the same settings, then continues training; the loss curve equals the uninterrupted run's.
   *
   * @throws InvalidInputException when the checkpoint does not match this trainer's model or data
   */
  public TrainingResult resume(Path checkpoint) {
    ensureOpen();
    Path stateFile = checkpoint.resolve("trainer_state.json");
    JsonNode st;
    try {
      st = Json.readTree(Files.readString(stateFile, StandardCharsets.UTF_8), stateFile.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + stateFile, e);
    }
    if (st.path("train_examples").asInt(-1) != train.size()) {
      throw new InvalidInputException(stateFile + ": train_examples", "checkpoint was written for "
          + st.path("train_examples").asInt(-1) + " training examples, this trainer has " + train.size());
    }
    try (SafetensorsReader ad = SafetensorsReader.open(checkpoint.resolve("adapter_model.safetensors"));
        SafetensorsReader opt = SafetensorsReader.open(checkpoint.resolve("optimizer.safetensors"))) {
      List<String> modules = model.loraModules();
      int i = 0;
      for (String mod : modules) {
        for (String ab : new String[] {"lora_A", "lora_B"}) {
          String key = "base_model.model." + mod + "." + ab + ".weight";
          if (ad.tensor(key).isEmpty()) {
            throw new InvalidInputException(checkpoint + ": " + key, "checkpoint lacks adapter tensor " + key);
          }
          float[] w = ad.readFloats(key);
          if (w.length != master[i].length) {
            throw new InvalidInputException(checkpoint + ": " + key, "adapter tensor " + key + " has " + w.length
                + " values, the model needs " + master[i].length);
          }
          master[i] = w;
          adamM[i] = opt.readFloats(String.format("param.%04d.exp_avg", i));
          adamV[i] = opt.readFloats(String.format("param.%04d.exp_avg_sq", i));
          writeParam(i);
          i++;
        }
      }
    }
    globalStep = st.get("global_step").asInt();
    epoch = st.get("epoch").asInt();
    microInEpoch = st.get("micro_batch_in_epoch").asInt();
    bestEval = st.get("best_eval_loss").isNull() ? Double.POSITIVE_INFINITY : st.get("best_eval_loss").asDouble();
    evalsWithoutImprovement = st.get("evals_without_improvement").asInt();
    lossScale = st.path("loss_scale").asDouble(lossScale);
    stepsSinceOverflow = st.path("steps_since_overflow").asInt(0);
    skippedSteps = st.path("skipped_steps").asInt(0);
    stepLosses.clear();
    st.get("step_losses").forEach(n -> stepLosses.add(n.asDouble()));
    evalLosses.clear();
    st.get("eval_losses").forEach(n -> evalLosses.add(n.asDouble()));
    lrs.clear();
    st.get("learning_rates").forEach(n -> lrs.add(n.asDouble()));
    LOG.info("resuming from {} at step {}", checkpoint, globalStep);
    return train();
  }

  /** Writes the trained adapter as a PEFT directory. */
  public void saveAdapter(Path dir) {
    ensureOpen();
    model.saveAdapter(dir);
  }

  /**
   * Writes base + merged adapters as a full-precision (F32) Hugging Face checkpoint for securetag-gguf, merged into the
   * base checkpoint's original weights when it has float ones (see {@link LlamaModel.MergeBase}).
   */
  public void mergeAndSave(Path dir) {
    ensureOpen();
    model.mergeAndSave(dir);
  }

  /** {@link #mergeAndSave(Path)} with the base weights chosen by {@code base}. */
  public void mergeAndSave(Path dir, LlamaModel.MergeBase base) {
    ensureOpen();
    model.mergeAndSave(dir, dev.securetag.core.SafetensorsReader.DType.F32, 2L << 30, base);
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("QloraTrainer is closed");
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      model.close();
    }
  }

  /** Configures a {@link QloraTrainer}; baseModel, trainData and outputDir are required. */
  public static final class Builder {
    private Path baseModel;
    private Path trainData;
    private Path validationData;
    private Path outputDir;
    private Path adapter;
    private LoraConfig lora = LoraConfig.builder().build();
    private int epochs = 3;
    private int batchSize = 4;
    private int gradientAccumulation = 1;
    private double learningRate = 2e-4;
    private int warmupSteps;
    private Scheduler scheduler = Scheduler.COSINE;
    private int maxSeqLength = 2048;
    private long seed = 42;
    private double weightDecay;
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double epsilon = 1e-8;
    private double maxGradNorm = 1.0;
    private int maxSteps;
    private int evalSteps;
    private int checkpointSteps;
    private boolean checkpointEachEpoch = true;
    private int earlyStoppingPatience;
    private double earlyStoppingMinDelta;
    private int sampleGenerations;
    private boolean skipMalformedLines = true;
    private boolean packing;
    private Quantization quantization = Quantization.NF4_DOUBLE_QUANT;
    private KernelBackends.Preference kernels = KernelBackends.Preference.AUTO;
    private ComputeDevice device = ComputeDevice.AUTO;
    private Precision precision = Precision.AUTO;
    private AttentionKernel attention = AttentionKernel.SDPA;
    private boolean gradientCheckpointing = true;
    private ProgressListener listener = ProgressListener.NONE;

    private Builder() {}

    /** Hugging Face checkpoint directory of the base model. */
    public Builder baseModel(Path v) {
      this.baseModel = v;
      return this;
    }

    /** Alpaca or chat JSONL with the training examples. */
    public Builder trainData(Path v) {
      this.trainData = v;
      return this;
    }

    /** Optional JSONL evaluated every epoch (or every {@link #evalSteps}). */
    public Builder validationData(Path v) {
      this.validationData = v;
      return this;
    }

    /** Where checkpoints and the final adapter go. */
    public Builder outputDir(Path v) {
      this.outputDir = v;
      return this;
    }

    /** Fresh adapters with these settings (default r 8, alpha 16, attention projections). */
    public Builder lora(LoraConfig v) {
      this.lora = v;
      return this;
    }

    /** Continue training an existing PEFT adapter instead of fresh adapters. */
    public Builder adapter(Path peftDir) {
      this.adapter = peftDir;
      return this;
    }

    public Builder epochs(int v) {
      this.epochs = v;
      return this;
    }

    /** Examples per micro-batch. */
    public Builder batchSize(int v) {
      this.batchSize = v;
      return this;
    }

    /** Micro-batches per optimizer step. */
    public Builder gradientAccumulation(int v) {
      this.gradientAccumulation = v;
      return this;
    }

    public Builder learningRate(double v) {
      this.learningRate = v;
      return this;
    }

    public Builder warmupSteps(int v) {
      this.warmupSteps = v;
      return this;
    }

    public Builder scheduler(Scheduler v) {
      this.scheduler = v;
      return this;
    }

    /** Longer examples are cut (right side) and counted. */
    public Builder maxSeqLength(int v) {
      this.maxSeqLength = v;
      return this;
    }

    public Builder seed(long v) {
      this.seed = v;
      return this;
    }

    /** AdamW decoupled weight decay (default 0, as transformers). */
    public Builder weightDecay(double v) {
      this.weightDecay = v;
      return this;
    }

    public Builder betas(double b1, double b2) {
      this.beta1 = b1;
      this.beta2 = b2;
      return this;
    }

    /** Global gradient-norm clip; 0 disables (default 1.0). */
    public Builder maxGradNorm(double v) {
      this.maxGradNorm = v;
      return this;
    }

    /** Stop (and size the schedule) at this many optimizer steps; 0 = epochs decide. */
    public Builder maxSteps(int v) {
      this.maxSteps = v;
      return this;
    }

    /** Evaluate every N optimizer steps instead of every epoch (0 = per epoch). */
    public Builder evalSteps(int v) {
      this.evalSteps = v;
      return this;
    }

    /** Checkpoint every N optimizer steps (0 = only at epoch ends). */
    public Builder checkpointSteps(int v) {
      this.checkpointSteps = v;
      return this;
    }

    /** Checkpoint at each epoch end (default true). */
    public Builder checkpointEachEpoch(boolean v) {
      this.checkpointEachEpoch = v;
      return this;
    }

    /** Stop after this many evaluations without improvement by more than {@code minDelta} (0 = never). */
    public Builder earlyStopping(int patience, double minDelta) {
      this.earlyStoppingPatience = patience;
      this.earlyStoppingMinDelta = minDelta;
      return this;
    }

    /** Log greedy generations for the first N validation prompts at each evaluation. */
    public Builder sampleGenerations(int v) {
      this.sampleGenerations = v;
      return this;
    }

    /** Skip malformed dataset lines (reported with file:line) instead of failing (default skip). */
    public Builder skipMalformedLines(boolean v) {
      this.skipMalformedLines = v;
      return this;
    }

    /**
     * Pack several short training examples into one row of up to maxSeqLength (positions restart and attention stays
     * within each example); default off.
     */
    public Builder packing(boolean v) {
      this.packing = v;
      return this;
    }

    /** Base weight format (default NF4 with double quantization). */
    public Builder quantization(Quantization v) {
      this.quantization = v;
      return this;
    }

    /** Kernel backend for merging adapters on export. */
    public Builder kernels(KernelBackends.Preference v) {
      this.kernels = v;
      return this;
    }

    /** Where to train (default AUTO: CUDA when DJL's PyTorch engine sees a GPU, else CPU). */
    public Builder device(ComputeDevice v) {
      this.device = v;
      return this;
    }

    /** Matmul precision (default AUTO: BF16 on CUDA, FP32 on CPU); FP16 adds dynamic loss scaling. */
    public Builder precision(Precision v) {
      this.precision = v;
      return this;
    }

    /** Attention implementation (default SDPA). */
    public Builder attention(AttentionKernel v) {
      this.attention = v;
      return this;
    }

    /**
     * Recompute each decoder layer in backward instead of keeping its activations and dequantized weights (default
     * on); gradients are the same, memory drops to one layer's worth, at the cost of a second forward pass.
     */
    public Builder gradientCheckpointing(boolean v) {
      this.gradientCheckpointing = v;
      return this;
    }

    public Builder listener(ProgressListener v) {
      this.listener = v;
      return this;
    }

    /** Validates the settings, loads and quantizes the base model and tokenizes the data. */
    public QloraTrainer build() {
      if (baseModel == null || trainData == null || outputDir == null) {
        throw new IllegalStateException("QloraTrainer needs baseModel, trainData and outputDir");
      }
      if (epochs <= 0 || batchSize <= 0 || gradientAccumulation <= 0 || maxSeqLength < 4 || learningRate <= 0
          || warmupSteps < 0 || weightDecay < 0 || maxGradNorm < 0 || maxSteps < 0) {
        throw new IllegalArgumentException("QloraTrainer needs epochs, batchSize, gradientAccumulation, learningRate > 0,"
            + " maxSeqLength >= 4 and non-negative warmupSteps, weightDecay, maxGradNorm, maxSteps");
      }
      return new QloraTrainer(this);
    }
  }
}

package dev.securetag.train;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What a {@link QloraTrainer} run produced: the loss of every optimizer step, evaluation losses, throughput, time per
 * phase and where the adapter and checkpoints were written.
 *
 * @param stepLosses mean training loss (per response token) of each optimizer step, in order (including steps done
 *     before a resume)
 * @param evalLosses validation loss of each evaluation, in order (empty without validation data)
 * @param learningRates learning rate used at each optimizer step
 * @param steps optimizer steps completed
 * @param stoppedEarly whether early stopping ended the run
 * @param trainTokens tokens (non-padding) processed by this run
 * @param tokensPerSecond training throughput of this run
 * @param wallTime wall time of this run
 * @param phaseNanos time of this run split into dequantize, forward (without dequantize), backward, optimizer, eval
 * @param truncatedExamples examples cut to maxSeqLength
 * @param droppedExamples examples whose response did not fit at all and were left out
 * @param skippedLines malformed dataset lines skipped (file:line and reason)
 * @param adapterDir the final PEFT adapter directory
 * @param checkpoints checkpoint directories written by this run
 * @param setup where and how it ran: device, precision, attention, checkpointing, fp16 loss scaling
 */
public record TrainingResult(List<Double> stepLosses, List<Double> evalLosses, List<Double> learningRates, int steps,
    boolean stoppedEarly, long trainTokens, double tokensPerSecond, Duration wallTime, PhaseTimes phaseNanos,
    int truncatedExamples, int droppedExamples, List<String> skippedLines, Path adapterDir, List<Path> checkpoints,
    Setup setup) {

  /** Nanoseconds per training phase. */
  public record PhaseTimes(long dequantize, long forward, long backward, long optimizer, long eval) {}

  /**
   * How the run computed.
   *
   * @param device {@code cpu} or {@code cuda:N}
   * @param precision matmul precision as resolved (FP32, BF16 or FP16)
   * @param attention attention implementation
   * @param gradientCheckpointing whether decoder layers were recomputed in backward
   * @param lossScale the fp16 loss scale at the end (1 for FP32/BF16)
   * @param skippedSteps optimizer steps skipped for fp16 gradient overflow
   */
  public record Setup(String device, Precision precision, AttentionKernel attention, boolean gradientCheckpointing,
      double lossScale, int skippedSteps) {}

  /** The last step's loss. */
  public double finalLoss() {
    return stepLosses.isEmpty() ? Double.NaN : stepLosses.get(stepLosses.size() - 1);
  }

  /** The last validation loss, when there was validation data. */
  public Optional<Double> finalEvalLoss() {
    return evalLosses.isEmpty() ? Optional.empty() : Optional.of(evalLosses.get(evalLosses.size() - 1));
  }

  /** Perplexity of the last validation loss. */
  public Optional<Double> finalPerplexity() {
    return finalEvalLoss().map(Math::exp);
  }
}

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
 */
public record TrainingResult(List<Double> stepLosses, List<Double> evalLosses, List<Double> learningRates, int steps,
    boolean stoppedEarly, long trainTokens, double tokensPerSecond, Duration wallTime, PhaseTimes phaseNanos,
    int truncatedExamples, int droppedExamples, List<String> skippedLines, Path adapterDir, List<Path> checkpoints) {

  /** Nanoseconds per training phase. */
  public record PhaseTimes(long dequantize, long forward, long backward, long optimizer, long eval) {}

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

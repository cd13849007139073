package dev.securetag.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainingResultTest {
  private static final TrainingResult.Setup SETUP =
      new TrainingResult.Setup("cpu", Precision.FP32, AttentionKernel.SDPA, true, 1.0, 0);

  @Test
  void reportsFinalLossAndPerplexityOfLastEvaluation() {
    TrainingResult r = new TrainingResult(List.of(2.0, 1.0), List.of(1.5, Math.log(3)), List.of(1e-4, 2e-4), 2, false,
        100, 50.0, Duration.ofSeconds(2), new TrainingResult.PhaseTimes(1, 2, 3, 4, 5), 0, 0, List.of(),
        Path.of("adapter"), List.of(), SETUP);
    assertThat(r.finalLoss()).isEqualTo(1.0);
    assertThat(r.finalEvalLoss()).hasValue(Math.log(3));
    assertThat(r.finalPerplexity().orElseThrow()).isCloseTo(3.0, org.assertj.core.data.Offset.offset(1e-12));
    TrainingResult empty = new TrainingResult(List.of(), List.of(), List.of(), 0, false, 0, 0, Duration.ZERO,
        new TrainingResult.PhaseTimes(0, 0, 0, 0, 0), 0, 0, List.of(), Path.of("a"), List.of(), SETUP);
    assertThat(empty.finalLoss()).isNaN();
    assertThat(empty.finalPerplexity()).isEmpty();
    assertThat(r.setup().device()).isEqualTo("cpu");
    assertThat(r.setup().gradientCheckpointing()).isTrue();
  }
}

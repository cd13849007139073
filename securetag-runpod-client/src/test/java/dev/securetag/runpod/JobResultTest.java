package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.internal.Json;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class JobResultTest {

  @Test
  void parsesTheDocumentedCompletedShape() {
    JobResult r = JobResult.fromJson(Json.readTree("{\"delayTime\":824,\"executionTime\":3391,\"id\":\"sync-79164ff4-u1\","
        + "\"output\":{\"response\":\"hi\"},\"status\":\"COMPLETED\",\"workerId\":\"moi9fq5smrmwvl\",\"extra\":1}", "x"));
    assertThat(r.id()).isEqualTo("sync-79164ff4-u1");
    assertThat(r.status()).isEqualTo(JobStatus.COMPLETED);
    assertThat(r.delayTime()).contains(Duration.ofMillis(824));
    assertThat(r.executionTime()).contains(Duration.ofMillis(3391));
    assertThat(r.workerId()).contains("moi9fq5smrmwvl");
    assertThat(r.outputText()).isEqualTo("hi");
    assertThat(r.requireCompleted()).isSameAs(r);
    assertThat(r.toString()).contains("COMPLETED").contains("824ms");
  }

  @Test
  void keepsUnknownStatusesAndNonJsonErrors() {
    JobResult r = JobResult.fromJson(Json.readTree("{\"id\":\"a\",\"status\":\"THROTTLED\",\"error\":\"plain failure\"}", "x"));
    assertThat(r.status()).isEqualTo(JobStatus.UNKNOWN);
    assertThat(r.rawStatus()).isEqualTo("THROTTLED");
    assertThat(r.errorJson()).isEmpty();
    assertThat(r.errorMessage()).contains("plain failure");
    assertThat(r.hasOutput()).isFalse();
    assertThatThrownBy(r::requireCompleted).isInstanceOf(RunPodException.class).hasMessageContaining("not finished");
    assertThatThrownBy(() -> JobResult.fromJson(Json.readTree("{\"status\":\"COMPLETED\"}", "x")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void cancelledJobsAreTerminalFailures() {
    JobResult r = JobResult.fromJson(Json.readTree("{\"id\":\"724907fe-u1\",\"status\":\"CANCELLED\"}", "x"));
    assertThat(r.isTerminal()).isTrue();
    assertThatThrownBy(r::requireCompleted).isInstanceOfSatisfying(RunPodException.class,
        e -> assertThat(e.jobStatus()).contains(JobStatus.CANCELLED));
  }
}

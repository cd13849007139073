package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.RemoteServiceException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RunPodExceptionTest {

  @Test
  void carriesJobContextAndRetriabilityFromItsKind() {
    RunPodException e = new RunPodException(Kind.RATE_LIMITED, 429, "slow down", Duration.ofSeconds(3), null, "job-1",
        JobStatus.IN_QUEUE);
    assertThat(e).isInstanceOf(RemoteServiceException.class);
    assertThat(e.isRetriable()).isTrue();
    assertThat(e.retryAfter()).contains(Duration.ofSeconds(3));
    assertThat(e.jobId()).contains("job-1");
    assertThat(e.jobStatus()).contains(JobStatus.IN_QUEUE);
    RunPodException auth = new RunPodException(Kind.AUTHENTICATION, 401, "no", null, null, null, null);
    assertThat(auth.isRetriable()).isFalse();
    assertThat(auth.jobId()).isEmpty();
  }
}

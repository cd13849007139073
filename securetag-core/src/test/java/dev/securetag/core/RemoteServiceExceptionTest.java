package dev.securetag.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RemoteServiceExceptionTest {
  @Test
  void mapsStatusCodesToRetriableKinds() {
    assertThat(RemoteServiceException.kindForStatus(401)).isEqualTo(RemoteServiceException.Kind.AUTHENTICATION);
    assertThat(RemoteServiceException.kindForStatus(404)).isEqualTo(RemoteServiceException.Kind.NOT_FOUND);
    assertThat(RemoteServiceException.kindForStatus(429).retriable()).isTrue();
    assertThat(RemoteServiceException.kindForStatus(503).retriable()).isTrue();
    assertThat(RemoteServiceException.kindForStatus(400).retriable()).isFalse();
  }

  @Test
  void carriesRetryAfterAndRetriability() {
    var e = new RemoteServiceException(RemoteServiceException.Kind.RATE_LIMITED, 429, "slow down", Duration.ofSeconds(3), null);
    assertThat(e.isRetriable()).isTrue();
    assertThat(e.retryAfter()).hasValue(Duration.ofSeconds(3));
    assertThat(new InvalidInputException("a.pdf", "bad").isRetriable()).isFalse();
  }
}

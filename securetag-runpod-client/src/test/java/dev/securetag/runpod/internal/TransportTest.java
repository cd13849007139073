package dev.securetag.runpod.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.RetryPolicy;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

class TransportTest {
  private final Transport transport = new Transport(new OkHttpClient(),
      RetryPolicy.builder().initialBackoff(Duration.ofMillis(100)).maxBackoff(Duration.ofMillis(1000)).multiplier(2)
          .jitter(0.2).maxRetryAfter(Duration.ofSeconds(10)).build(),
      new Secret("sk-secret-value"), "Test",
      (kind, status, msg, ra, cause, jobId) -> new RemoteServiceException(kind, status, msg, ra, cause));

  @Test
  void backoffGrowsExponentiallyWithinJitterAndCap() {
    for (int i = 0; i < 50; i++) {
      assertThat(transport.backoff(1, Optional.empty()).toMillis()).isBetween(80L, 120L);
      assertThat(transport.backoff(3, Optional.empty()).toMillis()).isBetween(320L, 480L);
      assertThat(transport.backoff(10, Optional.empty()).toMillis()).isBetween(800L, 1200L);
    }
  }

  @Test
  void retryAfterWinsButIsCapped() {
    assertThat(transport.backoff(1, Optional.of(Duration.ofSeconds(3)))).isEqualTo(Duration.ofSeconds(3));
    assertThat(transport.backoff(1, Optional.of(Duration.ofMinutes(5)))).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void parsesRetryAfterSecondsAndHttpDates() {
    assertThat(Transport.parseRetryAfter("7")).isEqualTo(Duration.ofSeconds(7));
    assertThat(Transport.parseRetryAfter("1.5")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Transport.parseRetryAfter(null)).isNull();
    assertThat(Transport.parseRetryAfter("soon")).isNull();
    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(30));
    assertThat(Transport.parseRetryAfter(date)).isBetween(Duration.ofSeconds(25), Duration.ofSeconds(31));
  }

  @Test
  void failureMessagesAreScrubbedOfTheSecret() {
    RemoteServiceException e = transport.failure(RemoteServiceException.Kind.SERVER_ERROR, 500,
        "boom with sk-secret-value inside", null, null, null);
    assertThat(e.getMessage()).isEqualTo("Test boom with **** inside");
    assertThat(new Secret("sk-secret-value").toString()).isEqualTo("****");
  }
}

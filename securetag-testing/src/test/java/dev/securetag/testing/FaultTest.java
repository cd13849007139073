package dev.securetag.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class FaultTest {

  @Test
  void describesStatusRetryAfterBodyAndDrop() {
    Fault f = Fault.rateLimited(Duration.ofSeconds(2)).withBody("{}");
    assertThat(f.statusCode()).isEqualTo(429);
    assertThat(f.retryAfter()).contains(Duration.ofSeconds(2));
    assertThat(f.body()).contains("{}");
    assertThat(f.isDrop()).isFalse();
    assertThat(Fault.drop().isDrop()).isTrue();
    assertThat(Fault.status(503).echoingAuthorization().echoesAuthorization()).isTrue();
    assertThatThrownBy(() -> Fault.status(200)).isInstanceOf(IllegalArgumentException.class);
  }
}

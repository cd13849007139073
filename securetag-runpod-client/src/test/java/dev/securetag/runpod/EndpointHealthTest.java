package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.internal.Json;
import org.junit.jupiter.api.Test;

class EndpointHealthTest {

  @Test
  void parsesDocumentedAndOlderWorkerKeys() {
    EndpointHealth h = EndpointHealth.fromJson(Json.readTree("{\"jobs\":{\"completed\":1,\"failed\":5,\"inProgress\":0,"
        + "\"inQueue\":2,\"retried\":0},\"workers\":{\"idle\":0,\"initializing\":1,\"ready\":0,\"running\":0,\"throttled\":0}}",
        "x"));
    assertThat(h.jobsInQueue()).isEqualTo(2);
    assertThat(h.jobs()).containsEntry("failed", 5L);
    assertThat(h.workers()).containsEntry("initializing", 1L);
    assertThat(h.isCold()).isFalse();
    assertThat(EndpointHealth.fromJson(Json.readTree("{\"jobs\":{},\"workers\":{\"idle\":0,\"running\":0}}", "x")).isCold())
        .isTrue();
  }
}

package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.testing.FakeRunPodApi;
import org.junit.jupiter.api.Test;

class RunPodEndpointsTest {
  private static final String KEY = "rpa_ENDPOINTKEY012345";

  private static EndpointSpec.Builder spec() {
    return EndpointSpec.builder().name("securetag").image("ghcr.io/acme/securetag-worker:1.0")
        .gpuPools("ADA_24", "AMPERE_24").workers(0, 3).idleTimeoutSeconds(5).networkVolume("vol_abc123")
        .dataCenterId("EU-RO-1").env("SECURETAG_HANDLER_MODE", "stream").env("HF_TOKEN", "hf_SECRETVALUE123");
  }

  private static RunPodEndpoints client(FakeRunPodApi fake) {
    return RunPodEndpoints.builder().apiKey(KEY).baseUrl(fake.baseUrl()).build();
  }

  @Test
  void firstDeployCreatesTemplateAndEndpointSecondIsANoOpAndAChangeIsPatched() {
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).build(); RunPodEndpoints api = client(fake)) {
      // first deploy: both created, the endpoint carries the template's container settings
      RunPodEndpoints.Deployment first = api.deploy(spec().build());
      assertThat(first.template()).isEqualTo(RunPodEndpoints.Action.CREATED);
      assertThat(first.endpoint()).isEqualTo(RunPodEndpoints.Action.CREATED);
      ObjectNode ep = fake.endpoints().get(0);
      assertThat(ep.path("id").asText()).isEqualTo(first.endpointId());
      assertThat(ep.path("image").asText()).isEqualTo("ghcr.io/acme/securetag-worker:1.0");
      assertThat(ep.at("/env/SECURETAG_HANDLER_MODE").asText()).isEqualTo("stream");
      assertThat(ep.at("/gpu/pools").toString()).isEqualTo("[\"ADA_24\",\"AMPERE_24\"]");
      assertThat(ep.at("/workers/min").asInt()).isZero();
      assertThat(ep.at("/workers/max").asInt()).isEqualTo(3);
      assertThat(ep.at("/workers/idleTimeout").asInt()).isEqualTo(5);
      assertThat(ep.at("/networkVolumes/0").asText()).isEqualTo("vol_abc123");
      assertThat(ep.path("type").asText()).isEqualTo("QUEUE");
      assertThat(fake.templates().get(0).path("serverless").asBoolean()).isTrue();

      // the same spec again changes nothing
      int requests = fake.requests().size();
      RunPodEndpoints.Deployment second = api.deploy(spec().build());
      assertThat(second.endpointId()).isEqualTo(first.endpointId());
      assertThat(second.template()).isEqualTo(RunPodEndpoints.Action.UNCHANGED);
      assertThat(second.endpoint()).isEqualTo(RunPodEndpoints.Action.UNCHANGED);
      assertThat(fake.requests().subList(requests, fake.requests().size()))
          .allMatch(r -> r.startsWith("GET "));

      // a new image and more workers: the template and only the changed endpoint fields are updated
      RunPodEndpoints.Deployment third = api.deploy(spec().image("ghcr.io/acme/securetag-worker:1.1").workers(1, 5)
          .build());
      assertThat(third.endpointId()).isEqualTo(first.endpointId());
      assertThat(third.template()).isEqualTo(RunPodEndpoints.Action.UPDATED);
      assertThat(third.endpoint()).isEqualTo(RunPodEndpoints.Action.UPDATED);
      assertThat(third.changes()).containsExactlyInAnyOrder("image", "workers");
      assertThat(fake.endpoints()).hasSize(1).first().satisfies(e -> {
        assertThat(e.path("image").asText()).isEqualTo("ghcr.io/acme/securetag-worker:1.1");
        assertThat(e.at("/workers/min").asInt()).isEqualTo(1);
        assertThat(e.at("/workers/max").asInt()).isEqualTo(5);
        assertThat(e.at("/networkVolumes/0").asText()).isEqualTo("vol_abc123");
      });
      assertThat(fake.templates()).hasSize(1);
    }
  }

  @Test
  void twoEndpointsWithTheNameAreAnErrorNamingBoth() {
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).build(); RunPodEndpoints api = client(fake)) {
      api.deploy(spec().build());
      api.deploy(spec().name("other").build());
      // a second endpoint renamed by hand to the same name
      String otherId = fake.endpoints().get(1).path("id").asText();
      new okhttp3.OkHttpClient().newCall(new okhttp3.Request.Builder().url(fake.baseUrl() + "/v2/serverless/" + otherId)
          .header("Authorization", "Bearer " + KEY)
          .patch(okhttp3.RequestBody.create("{\"name\":\"securetag\"}", okhttp3.MediaType.get("application/json")))
          .build()).execute().close();
      assertThatThrownBy(() -> api.deploy(spec().build())).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("named securetag").hasMessageContaining(otherId);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void thePlanNamesEverySettingButNoSecret() {
    String plan = RunPodEndpoints.plan(spec().build());
    assertThat(plan).contains("template securetag-worker", "ghcr.io/acme/securetag-worker:1.0", "ADA_24",
        "workers 0..3", "idle timeout 5 s", "network volume vol_abc123", "HF_TOKEN")
        .doesNotContain("hf_SECRETVALUE123");
    assertThat(spec().build().toString()).doesNotContain("hf_SECRETVALUE123");
  }

  @Test
  void aWrongKeyFailsWithoutShowingIt() {
    try (FakeRunPodApi fake = FakeRunPodApi.builder().apiKey(KEY).build();
        RunPodEndpoints api = RunPodEndpoints.builder().apiKey("rpa_BADKEY_000000000").baseUrl(fake.baseUrl())
            .build()) {
      assertThatThrownBy(() -> api.deploy(spec().build())).isInstanceOf(RunPodException.class)
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("rpa_BADKEY_000000000"));
      assertThat(api.toString()).doesNotContain("BADKEY");
    }
  }

  @Test
  void specRejectsImpossibleSettings() {
    assertThatThrownBy(() -> spec().workers(4, 2).build()).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> spec().idleTimeoutSeconds(0).build()).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> spec().gpuPools().build()).hasMessageContaining("GPU pool");
  }
}

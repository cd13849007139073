package dev.securetag.runpod;

import static dev.securetag.runpod.TestSupport.client;
import static dev.securetag.runpod.TestSupport.fake;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.ChatMessage;
import dev.securetag.core.LlmRequest;
import dev.securetag.core.LlmResponse;
import dev.securetag.core.RemoteServiceException.Kind;
import dev.securetag.core.RemoteServiceException;
import dev.securetag.core.RetryPolicy;
import dev.securetag.core.internal.Json;
import dev.securetag.testing.FakeRunPodEndpoint;
import dev.securetag.testing.Fault;
import dev.securetag.testing.Operation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunPodLlmClientTest {

  @Test
  void sendsTheSeedInputContractAndReadsResponseAndModel() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> Json.object()
            .put("response", "A.5.1 requires policies").put("model", job.input().path("model").asText()))
            .build();
        RunPodLlmClient llm = RunPodLlmClient.builder().runPod(client(fake).build()).model("securetag").build()) {
      LlmResponse r = llm.generate(LlmRequest.builder().prompt("What is A.5.1?").system("Be exact").maxTokens(128)
          .temperature(0.1).jsonMode(true).build());
      assertThat(r.text()).isEqualTo("A.5.1 requires policies");
      assertThat(r.model()).isEqualTo("securetag");
      JsonNode input = Json.readTree(fake.requests().get(0).body(), "body").path("input");
      assertThat(input.path("prompt").asText()).isEqualTo("What is A.5.1?");
      assertThat(input.path("model").asText()).isEqualTo("securetag");
      assertThat(input.path("system").asText()).isEqualTo("Be exact");
      assertThat(input.path("stream").asBoolean(true)).isFalse();
      assertThat(input.path("options").path("num_predict").asInt()).isEqualTo(128);
      assertThat(input.path("format").asText()).isEqualTo("json");
      assertThat(llm.modelName()).isEqualTo("securetag");
    }
  }

  @Test
  void chatSendsMessagesAndReportsTheRunPodClientsRetries() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> Json.object()
            .put("response", "turns " + job.input().path("messages").size()).put("model", "securetag"))
            .build();
        RunPodLlmClient llm = RunPodLlmClient.builder().runPod(client(fake).build()).model("securetag").build()) {
      List<String> tokens = new ArrayList<>();
      LlmResponse r = llm.chat(List.of(ChatMessage.user("hi"), ChatMessage.assistant("hello"), ChatMessage.user("A.5.1?")),
          LlmRequest.builder().prompt("").system("Be exact").temperature(0.2).build(), tokens::add);
      assertThat(r.text()).isEqualTo("turns 4");
      assertThat(tokens).containsExactly("turns 4");
      JsonNode input = Json.readTree(fake.requests().get(0).body(), "body").path("input");
      assertThat(input.has("prompt")).isFalse();
      assertThat(input.path("messages").get(0).path("role").asText()).isEqualTo("system");
      assertThat(input.path("messages").get(3).path("content").asText()).isEqualTo("A.5.1?");
      assertThat(input.path("options").path("temperature").asDouble()).isEqualTo(0.2);
      assertThat(llm.retryPolicy().maxAttempts()).isEqualTo(5);
    }
  }

  @Test
  void unwrapsAggregatedListOutputsOfGeneratorWorkers() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> {
          job.emit(Json.mapper().getNodeFactory().textNode("{\"model\":\"m\",\"response\":\"Hel\",\"done\":false}"));
          job.emit(Json.mapper().getNodeFactory().textNode("{\"model\":\"m\",\"response\":\"lo\",\"done\":false}"));
          job.emit(Json.mapper().getNodeFactory().textNode("{\"model\":\"m\",\"response\":\"\",\"done\":true}"));
          return null;
        }).build();
        RunPodLlmClient llm = RunPodLlmClient.builder().runPod(client(fake).build()).model("m").build()) {
      LlmResponse r = llm.generate(LlmRequest.of("hi"));
      assertThat(r.text()).isEqualTo("Hello");
      assertThat(r.model()).isEqualTo("m");
    }
  }

  @Test
  void failedJobIsANonRetriableJobFailure() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> Json.object().put("error", "model 'securetag' not found")).build();
        RunPodLlmClient llm = RunPodLlmClient.builder().runPod(client(fake).build()).model("securetag").build()) {
      assertThatThrownBy(() -> llm.generate("x")).isInstanceOfSatisfying(RemoteServiceException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.JOB_FAILED);
        assertThat(e.isRetriable()).isFalse();
        assertThat(e.getMessage()).contains("not found");
      });
    }
  }

  @Test
  void rateLimitedSubmitIsRetriedAndAnExhaustedOneIsRetriable() {
    try (FakeRunPodEndpoint fake = fake().build();
        RunPodLlmClient llm = RunPodLlmClient.builder()
            .runPod(client(fake).retry(RetryPolicy.builder().maxAttempts(2).initialBackoff(Duration.ofMillis(5)).build()).build())
            .model("m").build()) {
      fake.injectFault(Operation.RUNSYNC, 1, Fault.rateLimited());
      assertThat(llm.generate("a")).isEqualTo("echo: a");
      fake.injectFault(Operation.RUNSYNC, 2, Fault.rateLimited());
      assertThatThrownBy(() -> llm.generate("b")).isInstanceOfSatisfying(RemoteServiceException.class, e -> {
        assertThat(e.kind()).isEqualTo(Kind.RATE_LIMITED);
        assertThat(e.isRetriable()).isTrue();
      });
    }
  }

  @Test
  void outputWithoutTextIsABadResponse() {
    try (FakeRunPodEndpoint fake = fake().handler(job -> Json.object().put("unexpected", 1)).build();
        RunPodLlmClient llm = RunPodLlmClient.builder().runPod(client(fake).build()).model("m").build()) {
      assertThatThrownBy(() -> llm.generate("x")).isInstanceOfSatisfying(RemoteServiceException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.BAD_RESPONSE));
    }
  }

  @Test
  void closingClosesTheOwnedRunPodClient() {
    try (FakeRunPodEndpoint fake = fake().build()) {
      RunPodClient rp = client(fake).build();
      RunPodLlmClient llm = RunPodLlmClient.builder().runPod(rp).model("m").build();
      llm.close();
      llm.close();
      assertThatThrownBy(() -> llm.generate("x")).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> RunPodLlmClient.builder().runPod(rp).build()).isInstanceOf(IllegalArgumentException.class);
    }
  }
}

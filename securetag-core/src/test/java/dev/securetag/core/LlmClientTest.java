package dev.securetag.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LlmClientTest {
  /** A client with only generate(): the defaults of streaming, chat and retries are what is under test. */
  private final List<LlmRequest> seen = new ArrayList<>();
  private final LlmClient echo = new LlmClient() {
    @Override
    public LlmResponse generate(LlmRequest request) {
      seen.add(request);
      return LlmResponse.of(request.system().map(s -> "[" + s + "] ").orElse("") + request.prompt(), "echo");
    }

    @Override
    public String modelName() {
      return "echo";
    }
  };

  @Test
  void streamingDefaultPassesTheWholeTextOnce() {
    List<String> tokens = new ArrayList<>();
    LlmResponse r = echo.generateStreaming(LlmRequest.of("hi"), tokens::add);
    assertThat(r.text()).isEqualTo("hi");
    assertThat(tokens).containsExactly("hi");
    assertThat(echo.generate("plain")).isEqualTo("plain");
  }

  @Test
  void chatDefaultServesASystemAndUserTurnWithTheSettings() {
    LlmRequest settings = LlmRequest.builder().prompt("ignored").temperature(0.1).build();
    LlmResponse r = echo.chat(List.of(ChatMessage.system("be brief"), ChatMessage.user("what is A.5.1?")), settings);
    assertThat(r.text()).isEqualTo("[be brief] what is A.5.1?");
    assertThat(seen.get(0).temperature()).hasValue(0.1);
    List<String> tokens = new ArrayList<>();
    echo.chat(List.of(ChatMessage.user("q")), null, tokens::add);
    assertThat(tokens).containsExactly("q");
  }

  @Test
  void chatDefaultRefusesConversationsItCannotServe() {
    assertThatThrownBy(() -> echo.chat(List.of(ChatMessage.user("a"), ChatMessage.assistant("b"),
        ChatMessage.user("c")), null)).isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("3");
    assertThatThrownBy(() -> echo.chat(List.of(), null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aClientRetriesNothingByDefault() {
    assertThat(echo.retryPolicy().maxAttempts()).isEqualTo(1);
    assertThat(echo.supportsJsonSchema()).isFalse();
  }
}

package dev.securetag.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ChatMessageTest {

  @Test
  void factoriesSetTheRoleAndBlankRolesAreRejected() {
    assertThat(ChatMessage.system("s")).isEqualTo(new ChatMessage("system", "s"));
    assertThat(ChatMessage.user("u").role()).isEqualTo("user");
    assertThat(ChatMessage.assistant("a").role()).isEqualTo("assistant");
    assertThat(new ChatMessage("tool", "{}").role()).isEqualTo("tool");
    assertThatThrownBy(() -> new ChatMessage(" ", "x")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ChatMessage("user", null)).isInstanceOf(NullPointerException.class);
  }
}

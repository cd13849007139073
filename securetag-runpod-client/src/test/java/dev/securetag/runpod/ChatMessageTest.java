package dev.securetag.runpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ChatMessageTest {

  @Test
  void factoriesSetTheRoleAndBlankRolesAreRejected() {
    assertThat(ChatMessage.system("s").role()).isEqualTo("system");
    assertThat(ChatMessage.user("u")).isEqualTo(new ChatMessage("user", "u"));
    assertThat(ChatMessage.assistant("a").content()).isEqualTo("a");
    assertThatThrownBy(() -> new ChatMessage(" ", "x")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ChatMessage("user", null)).isInstanceOf(NullPointerException.class);
  }
}

package dev.securetag.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.InvalidInputException;
import dev.securetag.gguf.Modelfile.Message;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Expected strings follow Ollama's legacy-template behaviour as its own template tests state it (ollama
 * {@code template/template_test.go} TestExecuteWithMessages, {@code template/testdata/alpaca.gotmpl}).
 */
class OllamaTemplateTest {
  private static final List<Message> CHAT = List.of(new Message("system", "You are a helpful assistant!"),
      new Message("user", "Hello friend!"), new Message("assistant", "Hello human!"),
      new Message("user", "What is your name?"));

  @Test
  void alpacaTemplateRendersTheTrainingLayoutForOnePrompt() {
    OllamaTemplate t = OllamaTemplate.parse(Modelfile.ALPACA_TEMPLATE);
    assertThat(t.renderGenerate(null, "Explain X.\n\n### Input:\ncode"))
        .isEqualTo("### Instruction:\nExplain X.\n\n### Input:\ncode\n\n### Response:\n");
    assertThat(t.renderGenerate("Be brief.", "Explain X."))
        .isEqualTo("Be brief.\n\n### Instruction:\nExplain X.\n\n### Response:\n");
  }

  @Test
  void alpacaTemplateRendersAConversationLikeOllamasAlpacaTemplate() {
    List<Message> chat = List.of(new Message("system", "You are a helpful assistant."),
        new Message("user", "Hello, how are you?"),
        new Message("assistant", "I'm doing great. How can I help you today?"),
        new Message("user", "I'd like to show off how chat templating works!"));
    assertThat(OllamaTemplate.parse(Modelfile.ALPACA_TEMPLATE).render(chat)).isEqualTo(
        "You are a helpful assistant.\n\n### Instruction:\nHello, how are you?\n\n### Response:\n"
            + "I'm doing great. How can I help you today?\n\n### Instruction:\n"
            + "I'd like to show off how chat templating works!\n\n### Response:\n");
  }

  @Test
  void templateWithoutResponseGetsOneAppendedAndEachTurnExecutesOnce() {
    String expected = "[INST] You are a helpful assistant!\n\nHello friend![/INST] Hello human![INST] What is your name?[/INST] ";
    assertThat(OllamaTemplate.parse("[INST] {{ if .System }}{{ .System }}\n\n{{ end }}{{ .Prompt }}[/INST] ").render(CHAT))
        .isEqualTo(expected);
    assertThat(OllamaTemplate.parse("[INST] {{ if .System }}{{ .System }}\n\n{{ end }}{{ .Prompt }}[/INST] {{ .Response }}")
        .render(CHAT)).isEqualTo(expected);
  }

  @Test
  void lastTurnIsCutAfterResponseSoTheModelContinuesThere() {
    String chatml = "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}{{ if .Prompt }}<|im_start|>user\n"
        + "{{ .Prompt }}<|im_end|>\n{{ end }}<|im_start|>assistant\n{{ .Response }}<|im_end|>\n";
    assertThat(OllamaTemplate.parse(chatml).render(CHAT)).isEqualTo(
        "<|im_start|>system\nYou are a helpful assistant!<|im_end|>\n<|im_start|>user\nHello friend!<|im_end|>\n"
            + "<|im_start|>assistant\nHello human!<|im_end|>\n<|im_start|>user\nWhat is your name?<|im_end|>\n"
            + "<|im_start|>assistant\n");
    // A trailing assistant message is continued, not closed.
    List<Message> partial = List.of(new Message("user", "Hello friend!"), new Message("assistant", "Hello human!"),
        new Message("user", "What is your name?"), new Message("assistant", "My name is Ollama and I"));
    assertThat(OllamaTemplate.parse("[INST] {{ .Prompt }}[/INST] {{ .Response }}").render(partial))
        .isEqualTo("[INST] Hello friend![/INST] Hello human![INST] What is your name?[/INST] My name is Ollama and I");
    // Text after the response inside a branch is cut as well, and so is everything after the branch.
    assertThat(OllamaTemplate.parse("{{ if .Prompt }}Q:{{ .Prompt }}\nA:{{ .Response }}</s>{{ end }}tail")
        .renderGenerate(null, "q")).isEqualTo("Q:q\nA:");
  }

  @Test
  void consecutiveMessagesOfOneRoleAreJoinedWithABlankLine() {
    List<Message> msgs = List.of(new Message("system", "a"), new Message("system", "b"), new Message("user", "u1"),
        new Message("user", "u2"));
    assertThat(OllamaTemplate.parse("S={{ .System }} P={{ .Prompt }} R=").render(msgs)).isEqualTo("S=a\n\nb P=u1\n\nu2 R=");
  }

  @Test
  void trimMarkersStringConstantsCommentsAndElseBranchesFollowGo() {
    OllamaTemplate t = OllamaTemplate.parse("{{/* header */}}<s>\n  {{- if .System }}[SYS]{{ .System }}{{ \"\\n\\n\" }}"
        + "{{- else if .Prompt }}[NOSYS]\n{{- else }}[EMPTY]{{ end }}  \n{{- `raw\\n` -}}  \n  {{ .Prompt }}");
    assertThat(t.execute("s", "p", "")).isEqualTo("<s>[SYS]s\n\nraw\\np");
    assertThat(t.execute("", "p", "")).isEqualTo("<s>[NOSYS]raw\\np");
    assertThat(t.execute(null, null, null)).isEqualTo("<s>[EMPTY]raw\\n");
    // "{{-3}}" would be a number in Go, not a trim marker; a dash needs the space to trim.
    assertThat(OllamaTemplate.parse("a {{- .Prompt -}} b").execute(null, "P", null)).isEqualTo("aPb");
  }

  @Test
  void refusesConstructsOutsideTheSupportedSubsetNamingTheOffset() {
    assertThatThrownBy(() -> OllamaTemplate.parse("{{ range .Messages }}{{ .Content }}{{ end }}"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("range .Messages").hasMessageContaining("offset 0");
    assertThatThrownBy(() -> OllamaTemplate.parse("x{{ if .System }}y"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("no {{ end }}").hasMessageContaining("offset 1");
    assertThatThrownBy(() -> OllamaTemplate.parse("x{{ end }}")).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("without a matching {{ if }}");
    assertThatThrownBy(() -> OllamaTemplate.parse("{{ .Prompt ")).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("unclosed action at offset 0");
    assertThatThrownBy(() -> OllamaTemplate.parse("{{ json .Messages }}")).isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> OllamaTemplate.parse("{{ .Prompt }}").render(List.of(new Message("tool", "x"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tool");
  }
}

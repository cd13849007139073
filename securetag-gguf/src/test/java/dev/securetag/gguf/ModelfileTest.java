package dev.securetag.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelfileTest {
  @TempDir Path tmp;

  @Test
  void writesAndParsesBackEveryInstruction() throws Exception {
    Modelfile mf = Modelfile.builder()
        .from("./model-q4_k_m.gguf")
        .adapter("./adapter.gguf")
        .template(Modelfile.ALPACA_TEMPLATE)
        .system("You answer \"security\" questions.\nCite the standard.")
        .parameter("temperature", 0.2)
        .parameter("num_ctx", 4096)
        .parameter("stop", "### Instruction:")
        .parameter("stop", " padded ")
        .message("user", "What is ASVS?")
        .license("MIT")
        .instruction("requires", "0.12.0")
        .build();
    Path f = tmp.resolve("Modelfile");
    mf.write(f);
    String text = Files.readString(f);
    assertThat(text).startsWith("FROM ./model-q4_k_m.gguf\nADAPTER ./adapter.gguf\nTEMPLATE \"\"\"");
    assertThat(text).contains("PARAMETER stop ### Instruction:\n").contains("PARAMETER stop \" padded \"\n");
    Modelfile back = Modelfile.read(f);
    assertThat(back.render()).isEqualTo(text);
    assertThat(back.from()).isEqualTo("./model-q4_k_m.gguf");
    assertThat(back.adapter()).contains("./adapter.gguf");
    assertThat(back.template()).contains(Modelfile.ALPACA_TEMPLATE);
    assertThat(back.system()).contains("You answer \"security\" questions.\nCite the standard.");
    assertThat(back.parameter("stop")).containsExactly("### Instruction:", " padded ");
    assertThat(back.parameter("temperature")).containsExactly("0.2");
    assertThat(back.messages()).containsExactly(new Modelfile.Message("user", "What is ASVS?"));
    assertThat(back.license()).contains("MIT");
    assertThat(back.otherInstructions()).containsExactly(java.util.Map.entry("REQUIRES", "0.12.0"));
  }

  @Test
  void rendersThePromptOllamaFeedsTheModelFromTemplateSystemAndMessages() {
    Modelfile plain = Modelfile.builder().from("./m.gguf").template(Modelfile.ALPACA_TEMPLATE).build();
    assertThat(plain.renderPrompt("Explain X.\n\n### Input:\ncode"))
        .isEqualTo("### Instruction:\nExplain X.\n\n### Input:\ncode\n\n### Response:\n");
    Modelfile withSystem = Modelfile.parse(plain.render() + "SYSTEM Be brief.\nMESSAGE user Hi\nMESSAGE assistant Hello\n",
        "inline");
    assertThat(withSystem.renderPrompt("Q"))
        .isEqualTo("Be brief.\n\n### Instruction:\nHi\n\n### Response:\nHello\n\n### Instruction:\nQ\n\n### Response:\n");
    // A request-level system replaces the Modelfile's, as Ollama's generate handler does.
    assertThat(withSystem.renderPrompt("Cite sources.", "Q")).startsWith("Cite sources.\n\n### Instruction:\nHi");
    assertThatThrownBy(() -> Modelfile.builder().from("./m.gguf").build().renderPrompt("Q"))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("no TEMPLATE");
  }

  @Test
  void parsesOllamaSyntaxCaseInsensitivelyWithComments() {
    Modelfile mf = Modelfile.parse("# comment\nfrom llama3:8b\n\nParameter top_k 20\nsystem \"Be brief.\"\n"
        + "TEMPLATE \"\"\"{{ .Prompt }}\n\"\"\"\n", "inline");
    assertThat(mf.from()).isEqualTo("llama3:8b");
    assertThat(mf.parameters()).hasSize(1);
    assertThat(mf.parameter("top_k")).containsExactly("20");
    assertThat(mf.system()).contains("Be brief.");
    assertThat(mf.template()).contains("{{ .Prompt }}\n");
  }

  @Test
  void rejectsInvalidModelfilesNamingTheLine() {
    assertThatThrownBy(() -> Modelfile.parse("FROM a\nBOGUS x\n", "mf"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("mf:2").hasMessageContaining("BOGUS");
    assertThatThrownBy(() -> Modelfile.parse("PARAMETER top_k 1\n", "mf"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("FROM");
    assertThatThrownBy(() -> Modelfile.parse("FROM a\nSYSTEM \"\"\"open\n", "mf"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("mf:2");
    assertThatThrownBy(() -> Modelfile.parse("FROM a\nADAPTER x\nADAPTER y\n", "mf"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("only one ADAPTER");
  }

  @Test
  void builderChecksInBuildWhateverTheOrderOfTheCallsAndCanBuildAgain() {
    // Checks no longer depend on call order: the second ADAPTER is refused by build(), not by the setter.
    Modelfile.Builder twoAdapters = Modelfile.builder().adapter("./a.gguf").adapter("./b.gguf").from("./m.gguf");
    assertThatThrownBy(twoAdapters::build).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("only one ADAPTER");
    Modelfile.Builder b = Modelfile.builder().parameter("TOP_K", 20).from("./m.gguf").adapter("./a.gguf");
    Modelfile first = b.build();
    assertThat(b.build().render()).isEqualTo(first.render());
    assertThat(first.parameter("top_k")).containsExactly("20");
    assertThat(first.adapter()).contains("./a.gguf");
  }

  @Test
  void refusesValuesOllamaCannotRepresent() {
    assertThatThrownBy(() -> Modelfile.builder().from("a").system("x\"\"\"y").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SYSTEM");
    assertThatThrownBy(() -> Modelfile.builder().build()).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> Modelfile.builder().from("a").message("tool", "x").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("role");
    assertThatThrownBy(() -> Modelfile.builder().from("a").parameter("bad name", 1).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("parameter name");
    assertThat(Modelfile.quote("plain")).isEqualTo("plain");
    assertThat(List.of(Modelfile.quote("a\nb"), Modelfile.quote(" x")))
        .containsExactly("\"\"\"a\nb\"\"\"", "\" x\"");
  }
}

package dev.securetag.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.SafetensorsReader;
import dev.securetag.core.internal.Json;
import dev.securetag.gguf.runtime.GenerationOptions;
import dev.securetag.gguf.runtime.GgufModel;
import dev.securetag.gguf.Modelfile;
import dev.securetag.pdf.PdfErrorKind;
import dev.securetag.pdf.internal.OcrEngine;
import dev.securetag.train.PromptTemplate;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the whole main job on its CI setting ({@code --quick}) and opens every artifact in its tool of record: the
 * JSONL line by line, the adapter's PEFT keys, the GGUF files in the local runtime, the Modelfile and worker assets.
 */
class SecuretagPipelineTest {
  @TempDir static Path dir;
  static SecuretagPipeline.Outcome outcome;
  static String printed;

  @BeforeAll
  static void runQuickPipeline() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    outcome = new SecuretagPipeline(SecuretagPipeline.Options.parse(new String[] {"--quick", "--out", dir.toString()}), ps).run();
    printed = bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void extractsEveryBundledSamplePdf() {
    assertThat(outcome.corpus().documents()).hasSize(4);
    assertThat(outcome.corpus().failures()).isEmpty();
    assertThat(outcome.corpus().tables()).isGreaterThanOrEqualTo(2);
    Optional<String> noOcr = OcrEngine.create(List.of("spa", "eng")).unavailableReason();
    if (noOcr.isEmpty()) {
      assertThat(outcome.corpus().skipped()).isEmpty();
      assertThat(outcome.corpus().ocrPages()).isPositive();
      assertThat(printed).doesNotContain("skipped");
    } else {
      // A machine without Tesseract: the scanned sample is skipped with the install hint, not failed.
      assertThat(outcome.corpus().skipped()).singleElement().satisfies(d -> {
        assertThat(d.document()).isEqualTo("scanned-incident-procedure.pdf");
        assertThat(d.errorKind()).contains(PdfErrorKind.OCR_UNAVAILABLE);
      });
      assertThat(printed).contains("0 failed, 1 skipped: OCR unavailable")
          .contains("apt-get install tesseract-ocr tesseract-ocr-spa tesseract-ocr-eng");
    }
  }

  @Test
  void writesJsonlThatParsesLineByLine() throws Exception {
    for (Path f : List.of(outcome.dataset().files().trainFile(), outcome.dataset().files().validationFile())) {
      List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
      assertThat(lines).isNotEmpty();
      for (int i = 0; i < lines.size(); i++) {
        JsonNode n = Json.readTree(lines.get(i), f.getFileName() + ":" + (i + 1));
        assertThat(n.path("instruction").asText()).isNotBlank();
        assertThat(n.has("input")).isTrue();
        assertThat(n.path("output").asText()).isNotBlank();
        assertThat(n.path("metadata").path("source").asText()).endsWith(".pdf");
        assertThat(n.path("metadata").path("page").asInt()).isPositive();
      }
    }
  }

  @Test
  void fineTuneConvergesAndWritesPeftAdapter() {
    assertThat(outcome.training().finalLoss()).isLessThan(outcome.training().stepLosses().get(0) / 10);
    Path adapter = outcome.adapter();
    assertThat(adapter.resolve("adapter_config.json")).exists();
    try (SafetensorsReader st = SafetensorsReader.open(adapter.resolve("adapter_model.safetensors"))) {
      assertThat(st.names()).contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
          "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight");
    }
    assertThat(outcome.merged().resolve("config.json")).exists();
  }

  @Test
  void ggufFilesRunInTheLocalRuntimeAndAnswerWithTheMemorisedText() {
    // Both quantizations of the fine-tuned model, prompted in the template it was trained on, must reproduce the
    // training answer it memorised (the RunPod test below checks the same through the whole serving stack).
    String expected = SecuretagPipeline.normalise(outcome.expected());
    assertThat(expected).isNotBlank();
    for (Path gguf : List.of(outcome.q8(), outcome.q4())) {
      try (GgufModel model = GgufModel.load(gguf)) {
        String text = model.generate(PromptTemplate.prompt(outcome.question(), null),
            GenerationOptions.builder().temperature(0).maxTokens(160).addStop("### Instruction:").build()).text();
        assertThat(SecuretagPipeline.normalise(text)).as("%s answer", gguf.getFileName()).startsWith(expected);
      }
    }
    Modelfile mf = Modelfile.read(outcome.q4().resolveSibling("Modelfile"));
    assertThat(mf.from()).isEqualTo("./" + outcome.q4().getFileName());
    assertThat(dir.resolve("deploy/runpod/Dockerfile")).exists();
    assertThat(dir.resolve("deploy/runpod/handler.py")).exists();
  }

  @Test
  void answersTheTrainingQuestionThroughRunPodWithTheMemorisedAnswer() {
    assertThat(SecuretagPipeline.normalise(outcome.answer())).startsWith(SecuretagPipeline.normalise(outcome.expected()));
    assertThat(printed).contains("== securetag summary", "memorised     yes");
  }

  @Test
  void rejectsUnknownOptionAndIncompleteBackends() {
    assertThatThrownBy(() -> SecuretagPipeline.Options.parse(new String[] {"--bogus"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--bogus");
    assertThatThrownBy(() -> SecuretagPipeline.Options.parse(new String[] {"--llm", "runpod"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--runpod-endpoint");
    assertThatThrownBy(() -> SecuretagPipeline.Options.parse(new String[] {"--steps", "0"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--steps");
  }
}

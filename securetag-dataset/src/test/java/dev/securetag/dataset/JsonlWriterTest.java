package dev.securetag.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.QaPair;
import dev.securetag.core.SourceRef;
import dev.securetag.core.TrainingExample;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlWriterTest {
  @TempDir Path dir;

  private static TrainingExample example(String doc, int i) {
    return TrainingExample.fromQaPair(QaPair.builder()
        .question("¿Qué exige el control A.5." + i + " de ISO/IEC 27001?")
        .answer("Respuesta número " + i + " sobre políticas de seguridad de " + doc + " con detalle " + i * 7919)
        .source(SourceRef.builder().document(doc).page(12).lastPage(13).sectionPath(List.of("A.5", "A.5." + i))
            .build())
        .chunkId("c" + i)
        .language("es")
        .build());
  }

  @Test
  void writesAlpacaLinesExactlyAsSpecifiedWithMetadataKey() throws IOException {
    TrainingExample e = TrainingExample.builder().instruction("¿Qué exige A.5.1?").output("Políticas “aprobadas”.")
        .putMetadata("source", "iso.pdf").putMetadata("page", 12).build();
    JsonlWriter w = JsonlWriter.builder().validationRatio(0).dedupe(null).build();
    Path f = dir.resolve("a.jsonl");
    w.writeFile(List.of(e, e), f);
    byte[] bytes = Files.readAllBytes(f);
    assertThat(bytes[0]).isEqualTo((byte) '{');
    String expected = "{\"instruction\":\"¿Qué exige A.5.1?\",\"input\":\"\",\"output\":\"Políticas “aprobadas”.\","
        + "\"metadata\":{\"source\":\"iso.pdf\",\"page\":12}}\n";
    assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo(expected + expected);
    assertThat(w.line(e) + "\n").isEqualTo(expected);
  }

  @Test
  void sidecarModeWritesPureAlpacaAndMetadataInSameOrder() throws IOException {
    JsonlWriter w = JsonlWriter.builder().metadata(MetadataMode.SIDECAR).validationRatio(0).build();
    List<TrainingExample> ex = List.of(example("a.pdf", 1), example("b.pdf", 2));
    Path f = dir.resolve("train.jsonl");
    w.writeFile(ex, f);
    List<String> lines = Files.readAllLines(f);
    assertThat(Json.readTree(lines.get(0), "l").fieldNames()).toIterable()
        .containsExactly("instruction", "input", "output");
    List<String> meta = Files.readAllLines(dir.resolve("train.metadata.jsonl"));
    assertThat(meta).hasSize(2);
    assertThat(Json.readTree(meta.get(1), "m").get("source").asText()).isEqualTo("b.pdf");
  }

  @Test
  void writesShareGptAndOpenAiChatRecords() {
    TrainingExample e = TrainingExample.builder().instruction("Q?").input("ctx").output("A.").build();
    String share = JsonlWriter.builder().format(DatasetFormat.SHAREGPT).systemPrompt("Eres experto.").build().line(e);
    assertThat(share).isEqualTo("{\"conversations\":[{\"from\":\"system\",\"value\":\"Eres experto.\"},"
        + "{\"from\":\"human\",\"value\":\"Q?\\n\\nctx\"},{\"from\":\"gpt\",\"value\":\"A.\"}]}");
    String chat = JsonlWriter.builder().format(DatasetFormat.OPENAI_CHAT).build().line(e);
    assertThat(chat).isEqualTo("{\"messages\":[{\"role\":\"user\",\"content\":\"Q?\\n\\nctx\"},"
        + "{\"role\":\"assistant\",\"content\":\"A.\"}]}");
  }

  @Test
  void splitIsSeededReproducibleAndKeepsEachDocumentOnOneSide() {
    List<TrainingExample> ex = new ArrayList<>();
    for (int d = 0; d < 40; d++) {
      for (int i = 0; i < 5; i++) {
        ex.add(example("doc" + d + ".pdf", d * 10 + i));
      }
    }
    JsonlWriter w = JsonlWriter.builder().validationRatio(0.2).seed(7).build();
    JsonlWriter.Result r1 = w.write(ex, dir.resolve("r1"));
    JsonlWriter.Result r2 = w.write(ex, dir.resolve("r2"));
    assertThat(r1.train()).isEqualTo(r2.train());
    assertThat(r1.validation()).isNotEmpty().isEqualTo(r2.validation());
    Set<Object> trainDocs = new HashSet<>();
    r1.train().forEach(e -> trainDocs.add(e.metadata().get("source")));
    r1.validation().forEach(e -> assertThat(trainDocs).doesNotContain(e.metadata().get("source")));
    assertThat(r1.validation().size()).isBetween(10, 90);
    JsonlWriter.Result other = JsonlWriter.builder().validationRatio(0.2).seed(8).build()
        .write(ex, dir.resolve("r3"));
    assertThat(other.validation()).isNotEqualTo(r1.validation());
  }

  @Test
  void fewDocumentsStillGiveBothSplitsWithoutLeakage() {
    List<TrainingExample> ex = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ex.add(example(i < 3 ? "a.pdf" : "b.pdf", i));
    }
    JsonlWriter.Result r = JsonlWriter.builder().validationRatio(0.1).build().write(ex, dir);
    assertThat(r.train()).hasSize(3);
    assertThat(r.validation()).hasSize(3);
  }

  @Test
  void removesExactAndNearDuplicatesAndReportsCounts() throws IOException {
    String longAnswer = "Access rights to information and other associated assets shall be provisioned, reviewed,"
        + " modified and removed in accordance with the topic-specific policy and rules for access control of"
        + " the organization, including periodic reviews by asset owners";
    TrainingExample a = TrainingExample.builder().instruction("What does A.5.18 require?").output(longAnswer).build();
    TrainingExample exactDup = TrainingExample.builder().instruction("  what DOES a.5.18 require? ")
        .output(longAnswer.toUpperCase()).build();
    TrainingExample nearDup = TrainingExample.builder().instruction("What does A.5.18 require?")
        .output(longAnswer + ", too").build();
    TrainingExample different = TrainingExample.builder().instruction("What is an asset?")
        .output("Anything that has value to the organization.").build();
    JsonlWriter.Result r = JsonlWriter.builder().validationRatio(0).build()
        .write(List.of(a, exactDup, nearDup, different), dir);
    assertThat(r.exactDuplicates()).isEqualTo(1);
    assertThat(r.nearDuplicates()).isEqualTo(1);
    assertThat(r.train()).containsExactly(a, different);
    assertThat(Files.readAllLines(r.trainFile())).hasSize(2);
    assertThat(r.validationFile()).isNull();
  }

  @Test
  void replacesTargetAtomicallyLeavingNoTemporaryFiles() throws IOException {
    Path f = dir.resolve("train.jsonl");
    Files.writeString(f, "old content\n");
    JsonlWriter.builder().validationRatio(0).build().writeFile(List.of(example("a.pdf", 1)), f);
    assertThat(Files.readString(f)).startsWith("{\"instruction\"");
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("train.jsonl");
    }
  }

  @Test
  void rejectsBadRatio() {
    assertThatThrownBy(() -> JsonlWriter.builder().validationRatio(1.0).build())
        .isInstanceOf(IllegalArgumentException.class);
  }
}

package dev.securetag.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.internal.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

class ValueTypesJsonTest {
  private final SourceRef ref =
      SourceRef.builder().document("iso27001.pdf").page(4).lastPage(5)
          .addSectionPath("A.5 Organizational controls", "A.5.1 Policies for information security").build();

  @Test
  void sourceRefRoundTripsAndJoinsSectionPath() {
    String json = Json.write(ref);
    assertThat(json).doesNotContain("\"section\"");
    assertThat(Json.read(json, SourceRef.class, "t")).isEqualTo(ref);
    assertThat(ref.section()).isEqualTo("A.5 Organizational controls > A.5.1 Policies for information security");
  }

  @Test
  void sourceRefRejectsPageZeroNamingTheDocument() {
    assertThatThrownBy(() -> SourceRef.of("nist.pdf", 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nist.pdf");
  }

  @Test
  void sourceRefSpanningWidensPages() {
    SourceRef other = SourceRef.of("iso27001.pdf", 7);
    assertThat(ref.spanning(other).page()).isEqualTo(4);
    assertThat(ref.spanning(other).lastPage()).isEqualTo(7);
  }

  @Test
  void tableBlockRoundTripsWithCellsAndMarkdown() {
    Table table = Table.of(List.of(List.of("Control", "Title"), List.of("A.5.1", "Policies | rules"), List.of("A.5.2", "Roles")));
    TextBlock block = TextBlock.ofTable(table, ref);
    assertThat(block.text()).isEqualTo(
        "| Control | Title |\n| --- | --- |\n| A.5.1 | Policies \\| rules |\n| A.5.2 | Roles |");
    TextBlock back = Json.read(Json.write(block), TextBlock.class, "t");
    assertThat(back).isEqualTo(block);
    assertThat(back.table().orElseThrow().body()).hasSize(2);
  }

  @Test
  void tableKindWithoutCellsIsRejected() {
    assertThatThrownBy(() -> TextBlock.of(BlockKind.TABLE, "x", ref)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void paragraphBlockRoundTrips() {
    TextBlock block = TextBlock.builder().kind(BlockKind.HEADING).level(2).text("A.5.1 Policies").source(ref).build();
    assertThat(Json.read(Json.write(block), TextBlock.class, "t")).isEqualTo(block);
  }

  @Test
  void chunkRoundTripsAndHasStableContentId() {
    Chunk c = Chunk.builder().text("Access shall be reviewed.").source(ref).index(3).tokenCount(6).build();
    Chunk back = Json.read(Json.write(c), Chunk.class, "t");
    assertThat(back).isEqualTo(c);
    assertThat(back.id()).isEqualTo(c.id()).hasSize(64);
    assertThat(c.textWithContext()).startsWith("[A.5 Organizational controls > A.5.1").endsWith("reviewed.");
  }

  @Test
  void qaPairRoundTripsWithOptionalFields() {
    QaPair p = QaPair.builder().question("¿Qué exige A.5.1?").answer("Políticas aprobadas.").source(ref)
        .chunkId("abc").language("es").judgeScore(8.0).build();
    assertThat(Json.read(Json.write(p), QaPair.class, "t")).isEqualTo(p);
    assertThat(Json.write(p)).contains("¿Qué"); // UTF-8, not \\u escapes
  }

  @Test
  void trainingExampleWritesAlpacaKeysInOrder() {
    QaPair p = QaPair.builder().question("What is A.5.1?").answer("A policy control.").source(ref).chunkId("c1").build();
    TrainingExample e = TrainingExample.fromQaPair(p);
    String json = Json.write(e);
    assertThat(json).startsWith("{\"instruction\":\"What is A.5.1?\",\"input\":\"\",\"output\":\"A policy control.\",\"metadata\":{");
    assertThat(json).contains("\"source\":\"iso27001.pdf\"", "\"page\":4", "\"pages\":[4,5]");
    assertThat(Json.read(json, TrainingExample.class, "t")).isEqualTo(e);
  }

  @Test
  void trainingExampleWithoutMetadataIsPureAlpaca() {
    TrainingExample e = TrainingExample.builder().instruction("i").output("o").build();
    assertThat(Json.write(e)).isEqualTo("{\"instruction\":\"i\",\"input\":\"\",\"output\":\"o\"}");
  }

  @Test
  void malformedJsonNamesTheLocation() {
    assertThatThrownBy(() -> Json.read("{\"instruction\": ", TrainingExample.class, "train.jsonl:17"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith("train.jsonl:17")
        .satisfies(e -> assertThat(((InvalidInputException) e).location()).hasValue("train.jsonl:17"));
  }
}

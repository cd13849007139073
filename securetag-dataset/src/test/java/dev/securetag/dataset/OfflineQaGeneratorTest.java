package dev.securetag.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.BlockKind;
import dev.securetag.core.Chunk;
import dev.securetag.core.QaPair;
import dev.securetag.core.SourceRef;
import dev.securetag.core.Table;
import dev.securetag.core.TextBlock;
import java.util.List;
import org.junit.jupiter.api.Test;

class OfflineQaGeneratorTest {
  private static TextBlock heading(String doc, String text, int level, int page) {
    return TextBlock.builder().kind(BlockKind.HEADING).text(text).level(level).source(SourceRef.of(doc, page))
        .build();
  }

  private static TextBlock para(String doc, String text, int page) {
    return TextBlock.of(BlockKind.PARAGRAPH, text, SourceRef.of(doc, page));
  }

  private static List<Chunk> chunk(List<TextBlock> blocks) {
    try (Chunker c = Chunker.builder().maxTokens(512).build()) {
      return c.chunk(blocks);
    }
  }

  private static List<TextBlock> isoBlocks() {
    return List.of(
        heading("iso27001.pdf", "3 Terms and definitions", 1, 2),
        para("iso27001.pdf", "3.1 asset: anything that has value to the organization and needs protection", 2),
        heading("iso27001.pdf", "5 Leadership", 1, 3),
        para("iso27001.pdf", "An information security policy is a statement of intent and direction formally"
            + " expressed by top management. Top management shall establish an information security policy that"
            + " is appropriate to the purpose of the organization.", 3),
        heading("iso27001.pdf", "A.5 Organizational controls", 1, 10),
        TextBlock.ofTable(Table.of(List.of(
            List.of("Control", "Name", "Description"),
            List.of("A.5.1", "Policies for information security",
                "Information security policy and topic-specific policies shall be defined and approved by management."),
            List.of("A.5.15", "Access control",
                "Rules to control physical and logical access to information shall be established and implemented."))),
            SourceRef.of("iso27001.pdf", 10)));
  }

  @Test
  void derivesSectionDefinitionAndControlRowPairsFromEnglishStandard() {
    GenerationResult r = OfflineQaGenerator.builder().build().generate(chunk(isoBlocks()));
    List<String> questions = r.pairs().stream().map(QaPair::question).toList();
    assertThat(questions).contains(
        "What does section 5 (Leadership) require?",
        "What is an information security policy?",
        "What is asset?",
        "What does control A.5.1 (Policies for information security) require?",
        "What does control A.5.15 (Access control) require?");
    QaPair a515 = r.pairs().stream().filter(p -> p.question().contains("A.5.15")).findFirst().orElseThrow();
    assertThat(a515.answer()).isEqualTo(
        "Rules to control physical and logical access to information shall be established and implemented.");
    assertThat(a515.source().page()).isEqualTo(10);
    assertThat(a515.language()).contains("en");
    assertThat(a515.generator()).contains(OfflineQaGenerator.GENERATOR);
    QaPair leadership = r.pairs().stream().filter(p -> p.question().contains("Leadership")).findFirst().orElseThrow();
    assertThat(leadership.answer()).startsWith("An information security policy is").doesNotContain("5 Leadership");
    assertThat(r.report().rules()).containsKeys("section", "definition", "table-row");
    assertThat(r.report().pairsKept()).isEqualTo(r.pairs().size());
    for (QaPair p : r.pairs()) {
      Chunk source = chunk(isoBlocks()).stream().filter(ch -> ch.id().equals(p.chunkId())).findFirst().orElseThrow();
      assertThat(source.text()).contains(p.answer().lines().findFirst().orElseThrow());
    }
  }

  @Test
  void writesSpanishQuestionsForSpanishText() {
    List<TextBlock> blocks = List.of(
        heading("ens.pdf", "op.acc.1 Identificación", 1, 4),
        para("ens.pdf", "La identificación es el proceso por el que se reconoce a un usuario. Cada usuario deberá"
            + " disponer de un identificador singular que permita conocer quién recibe los derechos de acceso.", 4),
        TextBlock.ofTable(Table.of(List.of(
            List.of("Código", "Medida"),
            List.of("op.acc.2", "Los requisitos de acceso se documentarán y aprobarán por el responsable."))),
            SourceRef.of("ens.pdf", 5)));
    GenerationResult r = OfflineQaGenerator.builder().build().generate(chunk(blocks));
    assertThat(r.pairs()).extracting(QaPair::question).contains(
        "¿Qué exige la sección op.acc.1 (Identificación)?",
        "¿Qué es la identificación?",
        "¿Qué exige el control op.acc.2?");
    assertThat(r.pairs()).allSatisfy(p -> assertThat(p.language()).contains("es"));
  }

  @Test
  void definitionRuleIgnoresStatementsThatAreNotDefinitions() {
    assertThat(OfflineQaGenerator.definitionQuestion("The policy is reviewed every year by the board.", Language.EN))
        .isNull();
    assertThat(OfflineQaGenerator.definitionQuestion("It is a requirement of the standard to do this.", Language.EN))
        .isNull();
    assertThat(OfflineQaGenerator.definitionQuestion("Risk means the effect of uncertainty on objectives.",
        Language.EN)).isEqualTo("What does risk mean?");
    assertThat(OfflineQaGenerator.definitionQuestion("ISMS is a management system for information security.",
        Language.EN)).isEqualTo("What is ISMS?");
    assertThat(OfflineQaGenerator.definitionQuestion("El riesgo significa la probabilidad de un incidente.",
        Language.ES)).isEqualTo("¿Qué significa el riesgo?");
  }

  @Test
  void onlyTheFirstChunkOfASectionGetsTheSectionQuestion() {
    StringBuilder longText = new StringBuilder();
    for (int i = 0; i < 60; i++) {
      longText.append("Requirement ").append(i).append(" shall be documented and kept up to date. ");
    }
    List<TextBlock> blocks = List.of(heading("d.pdf", "6 Planning", 1, 1), para("d.pdf", longText.toString(), 1));
    List<Chunk> chunks = chunk(blocks);
    assertThat(chunks.size()).isGreaterThan(1);
    GenerationResult r = OfflineQaGenerator.builder().build().generate(chunks);
    assertThat(r.pairs()).filteredOn(p -> p.question().equals("What does section 6 (Planning) require?")).hasSize(1);
  }

  @Test
  void longAnswersAreCutAtASentenceEnd() {
    StringBuilder longText = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      longText.append("Requirement ").append(i).append(" shall be documented. ");
    }
    GenerationResult r = OfflineQaGenerator.builder().maxAnswerChars(200).build()
        .generate(chunk(List.of(heading("d.pdf", "6 Planning", 1, 1), para("d.pdf", longText.toString(), 1))));
    assertThat(r.pairs().get(0).answer()).hasSizeLessThanOrEqualTo(200).endsWith(".");
  }

  @Test
  void failsLoudlyWhenNoRuleAppliesInsteadOfReturningAnEmptyDataset() {
    List<Chunk> chunks = chunk(List.of(para("x.pdf", "some words without any structure at all here", 1)));
    assertThatThrownBy(() -> OfflineQaGenerator.builder().build().generate(chunks))
        .isInstanceOf(EmptyDatasetException.class).hasMessageContaining("no section");
    assertThat(OfflineQaGenerator.builder().build().generate(List.of()).pairs()).isEmpty();
  }

  @Test
  void namesNumberedSectionsAndRequirementsReadably() {
    assertThat(OfflineQaGenerator.sectionSubject("2 Scope", Language.EN)).isEqualTo("section 2 (Scope)");
    assertThat(OfflineQaGenerator.sectionSubject("A.5 Organizational controls", Language.EN))
        .isEqualTo("section A.5 (Organizational controls)");
    assertThat(OfflineQaGenerator.sectionSubject("AC-2 Account Management", Language.EN))
        .isEqualTo("section AC-2 (Account Management)");
    assertThat(OfflineQaGenerator.sectionSubject("Requisito 8.3.6 Complejidad de las contraseñas", Language.ES))
        .isEqualTo("el requisito 8.3.6 (Complejidad de las contraseñas)");
    assertThat(OfflineQaGenerator.sectionSubject("Requirement 8.3.1: Authentication factors", Language.EN))
        .isEqualTo("requirement 8.3.1 (Authentication factors)");
    assertThat(OfflineQaGenerator.sectionSubject("Information Security Policy", Language.EN))
        .isEqualTo("the section \"Information Security Policy\"");
    assertThat(OfflineQaGenerator.sectionSubject("op.acc.1 Identificación", Language.ES))
        .isEqualTo("la sección op.acc.1 (Identificación)");
    assertThat(OfflineQaGenerator.sectionSubject("Alcance", Language.ES)).isEqualTo("la sección «Alcance»");
  }
}

package dev.securetag.pdf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.BlockKind;
import dev.securetag.core.TextBlock;
import dev.securetag.testing.SampleCorpus;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PdfCorpus} on securetag-testing's {@link SampleCorpus}: tables, section paths, columns, a scanned page. */
class PdfCorpusSampleCorpusTest {

  @TempDir Path dir;

  @Test
  void samplesExtractWithTablesSectionsAndColumns() {
    List<Path> files = SampleCorpus.writeTo(dir);
    try (PdfCorpus c = PdfCorpus.builder().add(dir).ocr(OcrMode.OFF).threads(2).build()) {
      List<TextBlock> iso = c.extract(files.get(0)).blocks();
      TextBlock a5 = iso.stream().filter(x -> x.kind() == BlockKind.TABLE).findFirst().orElseThrow();
      assertThat(a5.source().section()).isEqualTo("A.5 Organizational controls");
      assertThat(a5.table().orElseThrow().rows().get(1)).containsExactly("A.5.1",
          "Policies for information security", "Information security policy and topic-specific policies shall be "
              + "defined, approved by management, published, communicated to relevant personnel and reviewed at "
              + "planned intervals.", "CISO");
      assertThat(iso).extracting(TextBlock::text).contains("Asset means any item that has value to the "
          + "organization, including information, software, hardware, services, people and reputation.");
      assertThat(iso).extracting(TextBlock::text).noneMatch(t -> t.contains("Contoso Ltd - Information Security "
          + "Policy (ISMS-POL-001)") || t.startsWith("Page "));

      List<TextBlock> nist = c.extract(files.get(1)).blocks();
      TextBlock ac2 = nist.stream().filter(x -> x.text().startsWith("a. Define and document")).findFirst()
          .orElseThrow();
      assertThat(ac2.kind()).isEqualTo(BlockKind.LIST_ITEM);
      assertThat(ac2.source().section()).isEqualTo("AC Access Control > AC-2 Account Management");
      assertThat(nist).extracting(TextBlock::text).contains("b. Assign account managers;");
      TextBlock ia5 = nist.stream().filter(x -> x.text().startsWith("c. Change default authenticators")).findFirst()
          .orElseThrow();
      assertThat(ia5.source().section()).isEqualTo("IA Identification and Authentication > IA-5 Authenticator "
          + "Management");

      TextBlock ia2 = nist.stream().filter(x -> x.text().startsWith("a. Uniquely identify")).findFirst()
          .orElseThrow();
      assertThat(ia2.source().sectionPath()).containsExactly("IA Identification and Authentication",
          "IA-2 Identification and Authentication (Organizational Users)");
      assertThat(nist.get(0).text()).isEqualTo("Security and Privacy Control Catalog");
      assertThat(nist.get(1).source().sectionPath()).isEmpty();

      List<TextBlock> pci = c.extract(files.get(2)).blocks();
      TextBlock req = pci.stream().filter(x -> x.text().startsWith("Todo acceso de los usuarios")).findFirst()
          .orElseThrow();
      assertThat(req.source().section()).isEqualTo("Requisito 8: Identificar a los usuarios y autenticar el acceso"
          + " > Requisito 8.3 Autenticación robusta > Requisito 8.3.1 Factores de autenticación");

      CorpusReport report = c.forEach(x -> { });
      assertThat(report.documents()).hasSize(4);
      assertThat(report.documents().get(3).errorKind()).contains(PdfErrorKind.EMPTY);
      assertThat(report.documents().get(3).pageIssues()).singleElement()
          .satisfies(i -> assertThat(i.kind()).isEqualTo(PageIssue.Kind.LOW_QUALITY_TEXT));
    }
  }
}

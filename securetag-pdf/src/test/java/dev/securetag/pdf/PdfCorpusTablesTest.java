package dev.securetag.pdf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.BlockKind;
import dev.securetag.core.Table;
import dev.securetag.core.TextBlock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ruled tables from drawn lines, text-aligned tables, tables continued on the next page. */
class PdfCorpusTablesTest {

  @TempDir Path dir;

  static final List<List<String>> CONTROLS = List.of(
      List.of("Control", "Title", "Requirement", "Owner"),
      List.of("A.5.1", "Policies for information security",
          "Information security policy and topic-specific policies shall be defined, approved by management, "
              + "published and communicated to relevant personnel.", "CISO"),
      List.of("A.5.15", "Access control", "Rules to control physical and logical access to information shall be "
          + "established and implemented.", "IT Security"),
      List.of("A.8.5", "Secure authentication", "Secure authentication technologies and procedures shall be "
          + "implemented based on access restrictions.", "IAM Team"),
      List.of("A.8.24", "Use of cryptography", "Rules for the effective use of cryptography, including key "
          + "management, shall be defined and implemented.", "Crypto Board"));

  private static final float[] WIDTHS = {0.12f, 0.26f, 0.46f, 0.16f};

  private static List<TextBlock> blocks(Path f) {
    return PdfCorpusTextTest.blocks(f);
  }

  @Test
  void extractsRuledTableWithExactCellsAndHeader() {
    Path f = TestPdfs.write(dir.resolve("ruled.pdf"), w -> {
      w.paragraph("Table 1 lists the selected controls.");
      w.table(CONTROLS, WIDTHS, true);
      w.paragraph("Controls are reviewed annually.");
    });
    List<TextBlock> b = blocks(f);
    assertThat(b).extracting(TextBlock::kind)
        .containsExactly(BlockKind.PARAGRAPH, BlockKind.TABLE, BlockKind.PARAGRAPH);
    Table t = b.get(1).table().orElseThrow();
    assertThat(t.rows()).isEqualTo(CONTROLS);
    assertThat(t.headerRows()).isEqualTo(1);
    assertThat(t.header().get(0)).containsExactly("Control", "Title", "Requirement", "Owner");
    assertThat(b.get(1).text()).startsWith("| Control | Title | Requirement | Owner |\n| --- | --- | --- | --- |\n"
        + "| A.5.1 | Policies for information security | Information security policy");
    assertThat(b.get(2).text()).isEqualTo("Controls are reviewed annually.");
  }

  @Test
  void joinsRuledTableContinuedOnNextPage() {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("ID", "Control name", "Statement"));
    for (int i = 1; i <= 40; i++) {
      rows.add(List.of("AC-" + i, "Access control " + i,
          "The organization manages access control requirement number " + i + " for all systems."));
    }
    Path f = TestPdfs.write(dir.resolve("long.pdf"), w -> {
      w.heading("AC Access Control", 14, 0);
      w.table(rows, new float[] {0.12f, 0.28f, 0.60f}, true);
      w.paragraph("End of the access control family.");
    });
    List<TextBlock> b = blocks(f);
    assertThat(b).extracting(TextBlock::kind)
        .containsExactly(BlockKind.HEADING, BlockKind.TABLE, BlockKind.PARAGRAPH);
    TextBlock table = b.get(1);
    assertThat(table.table().orElseThrow().rows()).isEqualTo(rows);
    assertThat(table.source().page()).isEqualTo(1);
    assertThat(table.source().lastPage()).isEqualTo(3);
    assertThat(table.source().section()).isEqualTo("AC Access Control");
  }

  @Test
  void extractsBorderlessTextAlignedTable() {
    List<List<String>> rows = List.of(
        List.of("Level", "Retention", "Review"),
        List.of("Public", "1 year", "Annual"),
        List.of("Internal", "3 years", "Annual"),
        List.of("Confidential", "7 years", "Quarterly"),
        List.of("Restricted", "10 years", "Monthly"));
    Path f = TestPdfs.write(dir.resolve("borderless.pdf"), w -> {
      w.paragraph("Retention periods by classification level are shown below.");
      w.table(rows, new float[] {0.3f, 0.3f, 0.4f}, false);
      w.paragraph("Records past their retention period are destroyed.");
    });
    List<TextBlock> b = blocks(f);
    assertThat(b).extracting(TextBlock::kind)
        .containsExactly(BlockKind.PARAGRAPH, BlockKind.TABLE, BlockKind.PARAGRAPH);
    assertThat(b.get(1).table().orElseThrow().rows()).isEqualTo(rows);
  }
}

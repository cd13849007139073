package dev.securetag.pdf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.BlockKind;
import dev.securetag.core.TextBlock;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Text in reading order: columns, paragraphs, hyphenation, ligatures, lists, furniture, headings. */
class PdfCorpusTextTest {

  @TempDir Path dir;

  static List<TextBlock> blocks(Path file) {
    try (PdfCorpus c = PdfCorpus.builder().add(file).ocr(OcrMode.OFF).threads(1).build()) {
      return c.extract(file).blocks();
    }
  }

  static List<String> texts(List<TextBlock> blocks) {
    return blocks.stream().map(TextBlock::text).toList();
  }

  @Test
  void readsTwoColumnPageColumnByColumn() {
    Path f = TestPdfs.write(dir.resolve("two-col.pdf"), w -> {
      w.heading("Access Control Guidance", 16, 0);
      w.columns(2);
      w.paragraph("Left column first paragraph explains that every user account must be approved by the "
          + "system owner before access is granted to production systems and data.");
      w.paragraph("Left column second paragraph states that accounts are reviewed every quarter and removed "
          + "when no longer required by the business.");
      w.nextColumn();
      w.paragraph("Right column text begins here after the left column is full and describes how privileged "
          + "access is logged, monitored and reviewed by the security team on a weekly basis for anomalies.");
      w.paragraph("Right column closing paragraph requires multi factor authentication for all remote access "
          + "to internal networks and for every administrative interface without exception.");
    });
    List<String> t = texts(blocks(f));
    assertThat(t).hasSize(5);
    assertThat(t.get(0)).isEqualTo("Access Control Guidance");
    assertThat(t.get(1)).startsWith("Left column first paragraph").endsWith("production systems and data.");
    assertThat(t.get(2)).startsWith("Left column second paragraph");
    assertThat(t.get(3)).startsWith("Right column text begins here");
    assertThat(t.get(4)).isEqualTo("Right column closing paragraph requires multi factor authentication for all "
        + "remote access to internal networks and for every administrative interface without exception.");
  }

  @Test
  void joinsHyphenatedLinesConservatively() {
    Path f = TestPdfs.write(dir.resolve("hyphen.pdf"), w -> {
      w.lines(List.of(
          "The organization shall maintain inform-",
          "ation security policies and well-",
          "known procedures; SHA-",
          "256 hashes protect pre-",
          "and post-processing of the organiz-",
          "ation's records."));
      w.paragraph("Only well-known algorithms are approved.");
    });
    assertThat(texts(blocks(f))).containsExactly(
        "The organization shall maintain information security policies and well-known procedures; SHA-256 "
            + "hashes protect pre- and post-processing of the organization's records.",
        "Only well-known algorithms are approved.");
  }

  @Test
  void normalizesLigaturesAndOddSpaces() {
    Path f = TestPdfs.write(dir.resolve("lig.pdf"), w ->
        w.lines(List.of("The \uFB01rewall con\uFB01guration is e\uFB00ective\u00A0and\u2009\u00ADverified.")));
    assertThat(texts(blocks(f))).containsExactly("The firewall configuration is effective and verified.");
  }

  @Test
  void keepsListItemsWithTheirMarkers() {
    Path f = TestPdfs.write(dir.resolve("list.pdf"), w -> {
      w.paragraph("The organization shall:");
      w.bullet("\u2022", "define and document the types of accounts allowed and specifically prohibited for use "
          + "within the system, including shared and guest accounts;");
      w.bullet("\u2022", "assign account managers;");
      w.bullet("a)", "require approvals by designated personnel for requests to create accounts.");
      w.paragraph("Accounts are reviewed quarterly.");
    });
    List<TextBlock> b = blocks(f);
    assertThat(texts(b)).containsExactly(
        "The organization shall:",
        "\u2022 define and document the types of accounts allowed and specifically prohibited for use within the "
            + "system, including shared and guest accounts;",
        "\u2022 assign account managers;",
        "a) require approvals by designated personnel for requests to create accounts.",
        "Accounts are reviewed quarterly.");
    assertThat(b.stream().map(TextBlock::kind)).containsExactly(BlockKind.PARAGRAPH, BlockKind.LIST_ITEM,
        BlockKind.LIST_ITEM, BlockKind.LIST_ITEM, BlockKind.PARAGRAPH);
  }

  @Test
  void removesRunningHeaderFooterAndPageNumbersButKeepsOneOffHeading() {
    Path f = TestPdfs.write(dir.resolve("thirty.pdf"), w -> {
      w.header("ACME Information Security Standard - Internal");
      w.footer("Page %d of %d");
      for (int i = 1; i <= 30; i++) {
        if (i > 1) {
          w.newPage();
        }
        if (i == 7) {
          w.heading("Appendix Overview", 14, 0);
        }
        w.paragraph("Paragraph on page " + i + " describes control number " + i
            + " and how it is verified during the annual audit.");
      }
    });
    List<TextBlock> b = blocks(f);
    List<String> t = texts(b);
    assertThat(t).hasSize(31);
    assertThat(t).noneMatch(s -> s.contains("ACME") || s.contains("Page "));
    assertThat(t).contains("Appendix Overview");
    assertThat(b.get(0).source().page()).isEqualTo(1);
    assertThat(b.get(30).source().page()).isEqualTo(30);
    assertThat(t.get(30)).isEqualTo(
        "Paragraph on page 30 describes control number 30 and how it is verified during the annual audit.");
  }

  @Test
  void buildsSectionPathsFromNumberedHeadings() {
    Path f = TestPdfs.write(dir.resolve("iso.pdf"), w -> {
      w.heading("A.5 Organizational controls", 14, 0);
      w.heading("A.5.1 Policies for information security", 12, 0);
      w.paragraph("Information security policy and topic-specific policies shall be defined and approved.");
      w.heading("A.5.2 Information security roles and responsibilities", 12, 0);
      w.paragraph("Roles shall be defined and allocated according to the organization needs.");
      w.heading("A.8 Technological controls", 14, 0);
      w.heading("A.8.5 Secure authentication", 12, 0);
      w.paragraph("Secure authentication technologies shall be implemented.");
    });
    List<TextBlock> b = blocks(f);
    assertThat(texts(b)).containsExactly(
        "A.5 Organizational controls",
        "A.5.1 Policies for information security",
        "Information security policy and topic-specific policies shall be defined and approved.",
        "A.5.2 Information security roles and responsibilities",
        "Roles shall be defined and allocated according to the organization needs.",
        "A.8 Technological controls",
        "A.8.5 Secure authentication",
        "Secure authentication technologies shall be implemented.");
    assertThat(b.get(2).source().section())
        .isEqualTo("A.5 Organizational controls > A.5.1 Policies for information security");
    assertThat(b.get(4).source().section())
        .isEqualTo("A.5 Organizational controls > A.5.2 Information security roles and responsibilities");
    assertThat(b.get(7).source().section()).isEqualTo("A.8 Technological controls > A.8.5 Secure authentication");
    assertThat(b.get(0).kind()).isEqualTo(BlockKind.HEADING);
    assertThat(b.get(0).level()).isEqualTo(1);
    assertThat(b.get(1).level()).isEqualTo(2);
  }

  @Test
  void buildsSectionPathsFromTheOutline() {
    Path f = TestPdfs.write(dir.resolve("outline.pdf"), w -> {
      w.heading("Access Control", 14, 1);
      w.paragraph("Intro to the family.");
      w.heading("Account Management", 12, 2);
      w.paragraph("Manage accounts throughout their lifecycle.");
      w.newPage();
      w.heading("Least Privilege", 12, 2);
      w.paragraph("Employ the principle of least privilege.");
      w.heading("Audit", 14, 1);
      w.paragraph("Audit events are logged.");
    });
    List<TextBlock> b = blocks(f);
    assertThat(texts(b)).containsExactly("Access Control", "Intro to the family.", "Account Management",
        "Manage accounts throughout their lifecycle.", "Least Privilege", "Employ the principle of least privilege.",
        "Audit", "Audit events are logged.");
    assertThat(b.get(3).source().section()).isEqualTo("Access Control > Account Management");
    assertThat(b.get(5).source().section()).isEqualTo("Access Control > Least Privilege");
    assertThat(b.get(5).source().page()).isEqualTo(2);
    assertThat(b.get(7).source().section()).isEqualTo("Audit");
    assertThat(b.get(4).level()).isEqualTo(2);
  }
}

package dev.securetag.pdf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.BlockKind;
import dev.securetag.core.Table;
import dev.securetag.core.TextBlock;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@link PdfCorpus} on real published PDFs (TeX Live documentation from Debian packages, and LaTeX sources built
 * once for this set; see {@code src/test/resources/realpdf/README.md}): word F1 against poppler's pdftotext,
 * section paths against each document's own outline, and one check per problem found on such files. None of these
 * needs Tesseract or poppler: pages that need OCR are tested in {@link PdfCorpusRealPdfOcrTest}.
 */
class PdfCorpusRealPdfTest {

  private static final Map<String, ExtractedDocument> CACHE = new ConcurrentHashMap<>();

  /** Extracts with the defaults a new user gets (OcrMode.AUTO, spa+eng), once per file for the whole class. */
  static ExtractedDocument extract(String name) {
    return CACHE.computeIfAbsent(name, n -> {
      try (PdfCorpus c = PdfCorpus.builder().build()) {
        return c.extract(RealPdfs.pdf(n));
      }
    });
  }

  private static List<TextBlock> blocks(String name) {
    return extract(name).blocks();
  }

  private static TextBlock block(String name, String startsWith) {
    return blocks(name).stream().filter(b -> b.text().startsWith(startsWith)).findFirst()
        .orElseThrow(() -> new AssertionError("no block starting with '" + startsWith + "' in " + name));
  }

  /** Word F1 against pdftotext, per file: measured on this set minus a small margin. */
  private static final Map<String, Double> MIN_F1 = Map.ofEntries(
      Map.entry("ltnews18.pdf", 0.98), Map.entry("makeindx.pdf", 0.98), Map.entry("russianb.pdf", 0.98),
      Map.entry("booktabs.pdf", 0.97), Map.entry("paper-twocol.pdf", 0.97), Map.entry("refcard.pdf", 0.98),
      Map.entry("slides.pdf", 0.98), Map.entry("beamerexample-conference-talk.pdf", 0.87),
      Map.entry("example-chinese.pdf", 0.97), Map.entry("numnameru.pdf", 0.92),
      Map.entry("churchslavonic-ru.pdf", 0.91), Map.entry("zhnumber.pdf", 0.97));

  @Test
  void matchesPdftotextWordsOnRealDocuments() {
    StringBuilder table = new StringBuilder();
    double latinSum = 0;
    int latin = 0;
    for (Map.Entry<String, Double> e : MIN_F1.entrySet()) {
      String name = e.getKey();
      double f1 = RealPdfs.wordF1(RealPdfs.pdftotext(name), RealPdfs.text(blocks(name)));
      table.append(String.format(Locale.ROOT, "%-36s F1 %.3f (min %.2f)%n", name, f1, e.getValue()));
      assertThat(f1).as("word F1 of %s against pdftotext", name).isGreaterThanOrEqualTo(e.getValue());
      if (!List.of("example-chinese.pdf", "numnameru.pdf", "churchslavonic-ru.pdf", "zhnumber.pdf",
          "beamerexample-conference-talk.pdf").contains(name)) {
        latinSum += f1;
        latin++;
      }
    }
    System.out.print(table);
    // The beamer example is left out of the mean: pdftotext reads its mathematical matrices cell by cell.
    assertThat(latinSum / latin).as("mean word F1 on the Latin-script documents").isGreaterThanOrEqualTo(0.985);
  }

  @Test
  void keepsWellFormedChineseAndCyrillicTextLayersInsteadOfOcrWithSpanishAndEnglish() {
    for (String name : List.of("zhnumber.pdf", "example-chinese.pdf", "numnameru.pdf", "churchslavonic-ru.pdf")) {
      DocumentReport r = extract(name).report();
      assertThat(r.ocrPages()).as("OCR'd pages of %s", name).isEmpty();
      assertThat(r.pageIssues()).as("page issues of %s", name).isEmpty();
    }
    // zhnumber pages 1-3, 15, 26 and 27 (Chinese with LaTeX code) used to be judged unreadable and OCR'd.
    String zh = RealPdfs.text(blocks("zhnumber.pdf"));
    assertThat(zh).contains("宏包用于将阿拉伯数字按照中文格式输出");
    assertThat(RealPdfs.text(blocks("numnameru.pdf"))).contains("два миллиарда сто сорок семь миллионов");
  }

  @Test
  void keepsIndexAndContentsPagesAsText() {
    // russianb.pdf page 30 is an index (command names, dot leaders, page numbers): no common words at all.
    DocumentReport r = extract("russianb.pdf").report();
    assertThat(r.ocrPages()).isEmpty();
    assertThat(r.pageIssues()).isEmpty();
    List<TextBlock> index = blocks("russianb.pdf").stream().filter(b -> b.source().page() == 30).toList();
    assertThat(RealPdfs.text(index)).contains("\\cyrmathbf").contains("\\DeclareMathOperator");
    // A table of contents: one paragraph per entry, never a heading, a table or glued to the body beside it.
    List<TextBlock> paper = blocks("paper-twocol.pdf");
    int contents = indexOf(paper, "Contents");
    int intro = indexOf(paper, "1 Introduction");
    assertThat(intro).isGreaterThan(contents);
    List<TextBlock> toc = paper.subList(contents + 1, intro);
    assertThat(toc).extracting(TextBlock::kind).containsOnly(BlockKind.PARAGRAPH);
    assertThat(toc).extracting(TextBlock::text).contains("1 Introduction 1", "3 Tooling 2", "5 Conclusion 2")
        .anySatisfy(t -> assertThat(t).startsWith("1.1 Scope . . .").endsWith("1"));
    assertThat(toc).hasSize(9);
  }

  private static int indexOf(List<TextBlock> blocks, String text) {
    for (int i = 0; i < blocks.size(); i++) {
      if (blocks.get(i).text().equals(text) && blocks.get(i).kind() == BlockKind.HEADING) {
        return i;
      }
    }
    throw new AssertionError("no heading '" + text + "'");
  }

  @Test
  void placesBlocksInSectionsByOutlinePositionsFromGoToActions() throws IOException {
    // hyperref writes bookmarks as GoTo actions (/A) with named or explicit XYZ destinations, several per page.
    for (String name : List.of("makeindx.pdf", "russianb.pdf", "paper-twocol.pdf", "churchslavonic-ru.pdf")) {
      RealPdfs.SectionCheck check = RealPdfs.sectionCheck(RealPdfs.pdf(name), blocks(name));
      System.out.printf(Locale.ROOT, "%s: %d of %d body blocks in the right section%n", name, check.correct(),
          check.checked());
      assertThat(check.checked()).as("blocks checked in %s", name).isGreaterThan(20);
      assertThat(check.share()).as("share of blocks with the right section path in %s: %s", name, check.wrong())
          .isGreaterThanOrEqualTo(0.98);
    }
    // Hand-checked against the documents.
    assertThat(block("paper-twocol.pdf", "We consider organisations").source().section())
        .isEqualTo("1 Introduction > 1.1 Scope");
    assertThat(block("paper-twocol.pdf", "Each policy was read").source().section())
        .isEqualTo("1 Introduction > 1.2 Method");
    assertThat(block("paper-twocol.pdf", "Twenty-six policies").source().section()).isEqualTo("2 Results > 2.1 Expiry");
    // "4 Discussion" ends the left column of page 2, "5 Conclusion" starts the right one, higher on the page.
    assertThat(block("paper-twocol.pdf", "Small organisations copy").source().section()).isEqualTo("4 Discussion");
    assertThat(block("paper-twocol.pdf", "Password policies in small").source().section()).isEqualTo("5 Conclusion");
    assertThat(block("makeindx.pdf", "The package showidx changes").source().section())
        .isEqualTo("1 Description > 1.2 Showidx");
    assertThat(block("makeindx.pdf", "Announce the package").source().section())
        .isEqualTo("4 Implementation > 4.1 Identification");
    assertThat(block("russianb.pdf", "Setting the ancient attribute").source().section())
        .isEqualTo("Usage > Modern and Ancient spelling");
  }

  @Test
  void keepsRaisedAndLoweredGlyphsInTheirWords() {
    // The LaTeX logo is L, a raised small A, T, a lowered E and X; footnote markers and sub/superscripts likewise.
    String news = RealPdfs.text(blocks("ltnews18.pdf"));
    assertThat(news).contains("LATEX News").contains("Issue 18, December 2007").doesNotContain("LAT X")
        .doesNotContain("DecemEber");
    String paper = RealPdfs.text(blocks("paper-twocol.pdf"));
    assertThat(paper).contains("typeset with LATEX and measured").contains("LATEX-typeset")
        .contains("grows as 2n with the length n").contains("water is H2O, which");
    assertThat(RealPdfs.text(blocks("churchslavonic-ru.pdf"))).contains("в системе LATEX");
    assertThat(RealPdfs.text(blocks("makeindx.pdf"))).contains("LATEX2ε");
  }

  @Test
  void keepsTheTitleBlockOutOfHeadingsAndSectionPaths() {
    List<TextBlock> paper = blocks("paper-twocol.pdf");
    assertThat(paper.subList(0, 3)).extracting(TextBlock::text).containsExactly(
        "Measuring Password Policies in Small Organisations",
        "Ada Example Grace Sample Example University Sample Institute", "12 March 2024");
    assertThat(paper.subList(0, 3)).allSatisfy(b -> {
      assertThat(b.kind()).isEqualTo(BlockKind.PARAGRAPH);
      assertThat(b.source().sectionPath()).isEmpty();
    });
    for (String name : List.of("makeindx.pdf", "ltnews18.pdf", "slides.pdf")) {
      List<TextBlock> b = blocks(name);
      TextBlock firstHeading = b.stream().filter(x -> x.kind() == BlockKind.HEADING).findFirst().orElse(null);
      assertThat(b.get(0).kind()).as("first block of %s", name).isEqualTo(BlockKind.PARAGRAPH);
      assertThat(b.get(0).source().sectionPath()).as("section of the title of %s", name).isEmpty();
      if (firstHeading != null) {
        assertThat(firstHeading.text()).as("first heading of %s", name).doesNotContainPattern("\\d{4}/\\d\\d/\\d\\d")
            .doesNotContain("December 2007").doesNotContain("March 2024");
      }
    }
    assertThat(blocks("makeindx.pdf")).extracting(TextBlock::text).contains("2014/09/29");
    assertThat(blocks("makeindx.pdf").stream().filter(b -> b.text().equals("2014/09/29")).findFirst().orElseThrow()
        .kind()).isEqualTo(BlockKind.PARAGRAPH);
  }

  @Test
  void readsTwoAndThreeColumnPagesColumnByColumn() {
    // Page 1 of the paper: abstract and contents in the left column, the introduction on the right.
    List<TextBlock> paper = blocks("paper-twocol.pdf");
    assertThat(indexOf(paper, "Abstract")).isLessThan(indexOf(paper, "Contents"));
    TextBlock abstractText = block("paper-twocol.pdf", "We survey");
    assertThat(abstractText.text()).isEqualTo("We survey the password policies of forty small organisations and "
        + "compare them with current guidance. Most policies still require periodic changes, although the guidance "
        + "no longer recommends them.");
    // A paragraph continued in the next column after a footnote, and a word hyphenated across lines.
    assertThat(block("paper-twocol.pdf", "Passwords remain").text())
        .endsWith("Entropy grows as 2n with the length n of a random password, and water is H2O, which matters for "
            + "nothing here but tests subscripts.")
        .contains("guidance documents");
    // The three-column reference card: column by column, no table made of its rows.
    List<TextBlock> card = blocks("refcard.pdf");
    assertThat(card).noneMatch(b -> b.kind() == BlockKind.TABLE);
    assertThat(card.stream().filter(b -> b.kind() == BlockKind.HEADING).map(TextBlock::text).toList())
        .containsExactly("Files", "Permissions", "Networking", "Processes", "Secrets", "Logging");
    assertThat(block("refcard.pdf", "Always quote").text()).isEqualTo("Always quote variables that hold file names, "
        + "because names may contain spaces, newlines or leading dashes that the shell would otherwise split or take "
        + "for options. Use a double dash to end the option list before a list of files, so that a file called dash r "
        + "is never read as a flag by rm or by any other tool that parses its arguments.");
    assertThat(block("refcard.pdf", "Never put passwords").source().section()).isEqualTo("Secrets");
  }

  @Test
  void readsSlidesAsSlides() {
    List<TextBlock> slides = blocks("slides.pdf");
    assertThat(slides.stream().filter(b -> b.kind() == BlockKind.HEADING).map(TextBlock::text).toList())
        .containsExactly("Prepare before the incident", "Detection and analysis", "Containment", "Lessons learned");
    assertThat(block("slides.pdf", "▶ Agree who").kind()).isEqualTo(BlockKind.LIST_ITEM);
    assertThat(block("slides.pdf", "▶ Agree who").source().section())
        .isEqualTo("Preparation > Prepare before the incident");
    // The last line of slide 2 and the first of slide 3 read like one sentence, but slides do not run on.
    assertThat(block("slides.pdf", "A plan that").text()).isEqualTo("A plan that nobody has rehearsed");
    assertThat(block("slides.pdf", "is only a document").source().page()).isEqualTo(3);
    assertThat(block("slides.pdf", "is only a document").source().section())
        .isEqualTo("Preparation > Detection and analysis");
    // A real beamer talk: frame titles become headings under the outline's sections.
    TextBlock frame = block("beamerexample-conference-talk.pdf", "What is haplotyping");
    assertThat(frame.kind()).isEqualTo(BlockKind.HEADING);
    assertThat(block("beamerexample-conference-talk.pdf", "You hopefully know").source().sectionPath())
        .containsExactly("Introduction", "The Model and the Problem", "What is haplotyping and why is it important?");
  }

  @Test
  void detectsBooktabsAndRuledTablesButNotCodeListings() {
    List<Table> tables = blocks("paper-twocol.pdf").stream().filter(b -> b.kind() == BlockKind.TABLE)
        .map(b -> b.table().orElseThrow()).toList();
    assertThat(tables).hasSize(2);
    // booktabs: rules above, below the header and at the bottom only; numbers right-aligned.
    assertThat(tables.get(0).header()).singleElement()
        .isEqualTo(List.of("Sector", "Policies", "Median", "Maximum"));
    assertThat(tables.get(0).rows()).contains(List.of("Retail", "12", "8", "12"), List.of("Legal", "8", "12", "20"));
    // Fully ruled, three columns.
    assertThat(tables.get(1).header()).singleElement().isEqualTo(List.of("Rule", "Attempts", "Duration"));
    assertThat(tables.get(1).rows()).contains(List.of("Moderate", "5", "15 minutes"));
    // A numbered listing and a console block keep their lines; neither is a table.
    TextBlock listing = block("paper-twocol.pdf", "1 def count_rules");
    assertThat(listing.kind()).isEqualTo(BlockKind.PARAGRAPH);
    assertThat(listing.text().lines().toList()).hasSize(6).element(5).asString().contains("return counts");
    List<String> lines = listing.text().lines().toList();
    assertThat(lines.get(2)).matches("3 {4,6}for policy in policies:");
    assertThat(lines.get(3)).matches("4 {8,10}for rule in policy.rules:");
    assertThat(block("paper-twocol.pdf", "$ python3 count.py").text())
        .isEqualTo("$ python3 count.py policies/\nretail: 12\nhealth: 9");
    // booktabs' own manual: its example tables, three columns with the header under "Item".
    List<Table> manual = blocks("booktabs.pdf").stream().filter(b -> b.kind() == BlockKind.TABLE)
        .map(b -> b.table().orElseThrow()).filter(t -> t.rows().stream().anyMatch(r -> r.contains("Armadillo")))
        .toList();
    assertThat(manual).hasSizeGreaterThanOrEqualTo(2).allSatisfy(t -> {
      assertThat(t.rows()).contains(List.of("Animal", "Description", "Price ($)"));
      assertThat(t.rows()).contains(List.of("Armadillo", "frozen", "8.99"));
    });
    // russianb.pdf: its numbered code (a .dtx listing) used to come out as 32 tables.
    assertThat(extract("russianb.pdf").report().tables()).isLessThanOrEqualTo(2);
    assertThat(blocks("russianb.pdf").stream().filter(b -> b.text().startsWith("1 \\ProvidesLanguage{russian}"))
        .findFirst().orElseThrow().kind()).isEqualTo(BlockKind.PARAGRAPH);
  }

  @Test
  void summarisesPdfBoxWarningsInTheReport() {
    // test_beamer.pdf has Arabic fonts whose ToUnicode maps PDFBox cannot read: it logs an error per glyph run.
    DocumentReport r;
    try (PdfCorpus c = PdfCorpus.builder().ocr(OcrMode.OFF).build()) {
      r = c.extract(RealPdfs.pdf("test_beamer.pdf")).report();
    }
    assertThat(r.warnings()).anySatisfy(w -> assertThat(w).startsWith("PDFBox reported ")
        .contains("problems while reading it").contains("logged at DEBUG"));
    String counted = r.warnings().stream().filter(w -> w.startsWith("PDFBox reported ")).findFirst().orElseThrow()
        .replaceAll("^PDFBox reported (\\d+) .*", "$1");
    assertThat(Integer.parseInt(counted)).isGreaterThanOrEqualTo(10);
  }

  @Test
  void reportsEveryPageOfTheSetAsReadWithoutOcrWhereTheTextLayerIsFine() {
    List<String> textOnly = List.of("ltnews18.pdf", "makeindx.pdf", "russianb.pdf", "booktabs.pdf",
        "paper-twocol.pdf", "refcard.pdf", "slides.pdf", "beamerexample-conference-talk.pdf");
    String summary = textOnly.stream().map(n -> n + ": " + extract(n).report().pageIssues()).collect(
        Collectors.joining("\n"));
    for (String n : textOnly) {
      assertThat(extract(n).report().pageIssues()).as(summary).isEmpty();
      assertThat(extract(n).report().ocrPages()).isEmpty();
    }
  }
}

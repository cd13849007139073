package dev.securetag.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.BlockKind;
import dev.securetag.core.Chunk;
import dev.securetag.core.InvalidInputException;
import dev.securetag.core.SourceRef;
import dev.securetag.core.Table;
import dev.securetag.core.TextBlock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkerTest {
  @TempDir static Path dir;
  static TokenCounter llama;

  @BeforeAll
  static void loadTokenizer() {
    llama = TokenCounter.huggingFace(TestTokenizers.tinyLlama());
  }

  @AfterAll
  static void closeTokenizer() {
    llama.close();
  }

  private static TextBlock para(String text, int page, String... path) {
    return TextBlock.of(BlockKind.PARAGRAPH, text,
        SourceRef.builder().document("iso.pdf").page(page).sectionPath(List.of(path)).build());
  }

  private static TextBlock heading(String text, int level, int page) {
    return TextBlock.builder().kind(BlockKind.HEADING).text(text).level(level)
        .source(SourceRef.of("iso.pdf", page)).build();
  }

  private static String sentences(String stem, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(stem).append(' ').append(i).append(" requires a documented review of access rights. ");
    }
    return sb.toString().trim();
  }

  @Test
  void countsTokensWithTheRealTokenizerAndFlagsThemExact() {
    try (Chunker chunker = Chunker.builder().tokenCounter(llama).maxTokens(512).build()) {
      List<Chunk> chunks = chunker.chunk(List.of(para("The organization shall define a policy.", 1)));
      assertThat(chunks).hasSize(1);
      Chunk c = chunks.get(0);
      assertThat(c.tokenCountExact()).isTrue();
      assertThat(c.tokenCount()).isEqualTo(llama.count("The organization shall define a policy."));
      assertThat(chunker.exactTokenCounts()).isTrue();
    }
  }

  @Test
  void loadsTokenizerFromPathAndClosesIt() {
    Chunker chunker = Chunker.builder().tokenizer(TestTokenizers.wordPiece(dir)).maxTokens(64).build();
    List<Chunk> chunks = chunker.chunk(List.of(para("security control", 1)));
    assertThat(chunks.get(0).tokenCount()).isEqualTo(2);
    chunker.close();
    chunker.close();
    assertThatThrownBy(() -> chunker.chunk(List.of(para("x", 1)))).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void fallsBackToDocumentedCharsPerTokenEstimateAndSaysSo() {
    try (Chunker chunker = Chunker.builder().maxTokens(64).build()) {
      String text = "abcdefghijkl"; // 12 code points / 3.0 = 4 tokens
      Chunk c = chunker.chunk(List.of(para(text, 1))).get(0);
      assertThat(c.tokenCountExact()).isFalse();
      assertThat(c.tokenCount()).isEqualTo(4);
    }
  }

  @Test
  void missingTokenizerFileIsInvalidInputNamingThePath() {
    Path missing = dir.resolve("nope/tokenizer.json");
    assertThatThrownBy(() -> Chunker.builder().tokenizer(missing).build())
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("nope");
  }

  @Test
  void splitsAtParagraphBoundaryBeforeSentenceBoundary() {
    String p1 = sentences("Control A", 3);
    String p2 = sentences("Control B", 3);
    int budget = llama.count(p1) + 8;
    try (Chunker chunker = Chunker.builder().tokenCounter(llama).maxTokens(budget).overlapTokens(0).build()) {
      List<Chunk> chunks = chunker.chunk(List.of(para(p1 + "\n\n" + p2, 1)));
      assertThat(chunks).extracting(Chunk::text).containsExactly(p1, p2);
    }
  }

  @Test
  void splitsLongParagraphAtSentencesNeverMidWord() {
    String text = sentences("Clause", 40);
    try (Chunker chunker = Chunker.builder().tokenCounter(llama).maxTokens(60).overlapTokens(0).build()) {
      List<Chunk> chunks = chunker.chunk(List.of(para(text, 1)));
      assertThat(chunks.size()).isGreaterThan(3);
      for (Chunk c : chunks) {
        assertThat(c.tokenCount()).isLessThanOrEqualTo(60).isEqualTo(llama.count(c.text()));
        assertThat(c.text()).startsWith("Clause").endsWith("rights.");
      }
      assertThat(String.join(" ", chunks.stream().map(Chunk::text).toList())).isEqualTo(text);
    }
  }

  @Test
  void overlapRepeatsWholeTrailingSentencesWithinBudget() {
    String text = sentences("Clause", 30);
    // Each sentence is 36 tokens with this tokenizer: the overlap budget of 40 allows exactly one.
    try (Chunker chunker = Chunker.builder().tokenCounter(llama).maxTokens(150).overlapTokens(40).build()) {
      List<Chunk> chunks = chunker.chunk(List.of(para(text, 1)));
      assertThat(chunks.size()).isGreaterThan(2);
      for (int i = 1; i < chunks.size(); i++) {
        String prev = chunks.get(i - 1).text();
        String cur = chunks.get(i).text();
        String firstSentence = cur.substring(0, cur.indexOf("rights.") + "rights.".length());
        assertThat(prev).endsWith(firstSentence);
        assertThat(llama.count(firstSentence)).isLessThanOrEqualTo(40);
        assertThat(prev).isNotEqualTo(firstSentence);
        assertThat(chunks.get(i).tokenCount()).isLessThanOrEqualTo(150);
      }
    }
  }

  @Test
  void largeTableSplitsBetweenRowsAndRepeatsHeader() {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("Control", "Requirement"));
    for (int i = 1; i <= 30; i++) {
      rows.add(List.of("A.5." + i, "Access to asset " + i + " shall be reviewed at planned intervals"));
    }
    TextBlock table = TextBlock.ofTable(Table.of(rows), SourceRef.of("iso.pdf", 3));
    try (Chunker chunker = Chunker.builder().tokenCounter(llama).maxTokens(120).build()) {
      List<Chunk> chunks = chunker.chunk(List.of(table));
      assertThat(chunks.size()).isGreaterThan(2);
      String header = "| Control | Requirement |\n| --- | --- |";
      int rowsSeen = 0;
      for (Chunk c : chunks) {
        assertThat(c.table()).isTrue();
        assertThat(c.text()).startsWith(header);
        assertThat(c.tokenCount()).isLessThanOrEqualTo(120);
        for (String line : c.text().split("\n")) {
          assertThat(line).startsWith("|").endsWith("|");
          if (line.startsWith("| A.5.")) {
            rowsSeen++;
          }
        }
      }
      assertThat(rowsSeen).isEqualTo(30);
    }
  }

  @Test
  void headingStartsNewChunkAndBuildsSectionPathFromLevels() {
    List<TextBlock> blocks = List.of(
        heading("A.5 Organizational controls", 1, 1),
        para("Intro to organizational controls.", 1),
        heading("A.5.1 Policies for information security", 2, 2),
        para("Policies shall be defined and approved by management.", 2),
        para("They shall be reviewed.", 3));
    try (Chunker chunker = Chunker.builder().tokenCounter(llama).build()) {
      List<Chunk> chunks = chunker.chunk(blocks);
      assertThat(chunks).hasSize(2);
      assertThat(chunks.get(0).source().sectionPath()).containsExactly("A.5 Organizational controls");
      assertThat(chunks.get(0).text()).startsWith("A.5 Organizational controls\n\nIntro");
      Chunk second = chunks.get(1);
      assertThat(second.source().sectionPath())
          .containsExactly("A.5 Organizational controls", "A.5.1 Policies for information security");
      assertThat(second.source().page()).isEqualTo(2);
      assertThat(second.source().lastPage()).isEqualTo(3);
      assertThat(second.index()).isEqualTo(1);
      assertThat(second.textWithContext())
          .startsWith("[A.5 Organizational controls > A.5.1 Policies for information security]\n");
    }
  }

  @Test
  void withoutRespectHeadingsSectionsShareChunks() {
    List<TextBlock> blocks = List.of(
        heading("1 Scope", 1, 1), para("Scope text.", 1), heading("2 Terms", 1, 1), para("Terms text.", 1));
    try (Chunker chunker = Chunker.builder().tokenCounter(llama).respectHeadings(false).build()) {
      assertThat(chunker.chunk(blocks)).hasSize(1);
    }
  }

  @Test
  void chunkIndexRestartsPerDocument() {
    List<TextBlock> blocks = List.of(
        TextBlock.of(BlockKind.PARAGRAPH, "First document text.", SourceRef.of("a.pdf", 1)),
        TextBlock.of(BlockKind.PARAGRAPH, "Second document text.", SourceRef.of("b.pdf", 1)));
    try (Chunker chunker = Chunker.builder().tokenCounter(llama).build()) {
      List<Chunk> chunks = chunker.chunk(blocks);
      assertThat(chunks).extracting(c -> c.source().document() + "#" + c.index()).containsExactly("a.pdf#0", "b.pdf#0");
    }
  }

  @Test
  void contextInBudgetKeepsPrefixedTextWithinLimit() {
    String text = sentences("Clause", 30);
    try (Chunker chunker = Chunker.builder().tokenCounter(llama).maxTokens(80).contextInBudget(true).build()) {
      List<Chunk> chunks = chunker.chunk(List.of(para(text, 1, "5 Controls", "5.1 Access control policy")));
      for (Chunk c : chunks) {
        assertThat(llama.count(c.textWithContext())).isLessThanOrEqualTo(80);
      }
    }
  }

  @Test
  void overlongWordIsCutBetweenCharactersOnlyAsLastResort() {
    String word = "x".repeat(400);
    try (Chunker chunker = Chunker.builder().tokenCounter(llama).maxTokens(32).overlapTokens(0).build()) {
      List<Chunk> chunks = chunker.chunk(List.of(para("Short words first. " + word, 1)));
      assertThat(chunks).allSatisfy(c -> assertThat(c.tokenCount()).isLessThanOrEqualTo(32));
      assertThat(String.join("", chunks.stream().map(Chunk::text).toList()).replace(" ", ""))
          .isEqualTo("Shortwordsfirst." + word);
    }
  }

  @Test
  void sameInputGivesSameChunks() {
    List<TextBlock> blocks = List.of(para(sentences("Clause", 25), 1), para(sentences("Regla", 10), 2));
    try (Chunker chunker = Chunker.builder().tokenCounter(llama).maxTokens(64).build()) {
      assertThat(chunker.chunk(blocks)).isEqualTo(chunker.chunk(blocks));
    }
  }

  @Test
  void blankBlocksMakeNoChunks() {
    try (Chunker chunker = Chunker.builder().tokenCounter(llama).build()) {
      assertThat(chunker.chunk(List.of(para("  \n ", 1)))).isEmpty();
    }
  }

  @Test
  void rejectsNonsensicalLimits() {
    assertThatThrownBy(() -> Chunker.builder().maxTokens(4).build()).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Chunker.builder().maxTokens(100).overlapTokens(60).build())
        .isInstanceOf(IllegalArgumentException.class);
  }
}

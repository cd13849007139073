package dev.securetag.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.core.BlockKind;
import dev.securetag.core.Chunk;
import dev.securetag.core.SourceRef;
import dev.securetag.core.Table;
import dev.securetag.core.TextBlock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

/** Chunker invariants over random text, counted by real tokenizers (a WordPiece built here and a Llama BPE). */
class ChunkerPropertiesTest {
  private static final Path DIR = tempDir();
  private static final TokenCounter WORDPIECE = TokenCounter.huggingFace(TestTokenizers.wordPiece(DIR));
  private static final TokenCounter LLAMA = TokenCounter.huggingFace(TestTokenizers.tinyLlama());

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("chunker-props");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @AfterContainer
  static void close() throws IOException {
    WORDPIECE.close();
    LLAMA.close();
    try (var files = Files.list(DIR)) {
      for (Path f : files.toList()) {
        Files.deleteIfExists(f);
      }
    }
    Files.deleteIfExists(DIR);
  }

  @Provide
  Arbitrary<String> word() {
    return Arbitraries.oneOf(
        Arbitraries.of("the", "security", "control", "shall", "be", "de", "la", "seguridad", "policy", "Sr.",
            "pág.", "e.g.", "A.5.1", "(see", "clause)", "información", "niño", "€100", "x²", "日本語"),
        Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(14),
        Arbitraries.strings().withChars("abcdeáéñ.,;:!?¿¡%{}'\"").ofMinLength(1).ofMaxLength(6));
  }

  @Provide
  Arbitrary<String> separator() {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(20, Arbitraries.just(" ")),
        net.jqwik.api.Tuple.of(4, Arbitraries.just(". ")),
        net.jqwik.api.Tuple.of(2, Arbitraries.just("\n")),
        net.jqwik.api.Tuple.of(2, Arbitraries.just("\n\n")),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(" \t ")));
  }

  @Provide
  Arbitrary<String> text() {
    Arbitrary<List<String>> words = word().list().ofMinSize(1).ofMaxSize(160);
    Arbitrary<List<String>> seps = separator().list().ofSize(160);
    return Combinators.combine(words, seps).as((ws, ss) -> {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < ws.size(); i++) {
        if (i > 0) {
          sb.append(ss.get(i));
        }
        sb.append(ws.get(i));
      }
      return sb.toString();
    });
  }

  @Provide
  Arbitrary<List<TextBlock>> blocks() {
    Arbitrary<TextBlock> block = Combinators.combine(text(), Arbitraries.integers().between(1, 9),
        Arbitraries.of(BlockKind.PARAGRAPH, BlockKind.PARAGRAPH, BlockKind.LIST_ITEM, BlockKind.HEADING,
            BlockKind.OCR_TEXT))
        .as((t, page, kind) -> {
          String text = kind == BlockKind.HEADING ? t.substring(0, Math.min(t.length(), 40)) : t;
          return TextBlock.builder().kind(kind).text(text).level(kind == BlockKind.HEADING ? 1 : 0)
              .source(SourceRef.of("doc.pdf", page)).build();
        });
    return block.list().ofMinSize(1).ofMaxSize(6);
  }

  private static TokenCounter counter(boolean llama) {
    return llama ? LLAMA : WORDPIECE;
  }

  @Property(tries = 120)
  void noChunkExceedsMaxTokensAndNoneIsEmpty(@ForAll("blocks") List<TextBlock> blocks,
      @ForAll @IntRange(min = 16, max = 120) int maxTokens, @ForAll @IntRange(min = 0, max = 8) int overlapEighths,
      @ForAll boolean respectHeadings, @ForAll boolean llama) {
    TokenCounter counter = counter(llama);
    try (Chunker chunker = Chunker.builder().tokenCounter(counter).maxTokens(maxTokens)
        .overlapTokens(maxTokens * overlapEighths / 16).respectHeadings(respectHeadings).build()) {
      for (Chunk c : chunker.chunk(blocks)) {
        assertThat(c.text()).isNotBlank();
        assertThat(c.tokenCount()).isLessThanOrEqualTo(maxTokens).isEqualTo(counter.count(c.text()));
        assertThat(c.tokenCountExact()).isTrue();
      }
    }
  }

  @Property(tries = 120)
  void everyCharacterOfTheInputIsInSomeChunkInOrder(@ForAll("blocks") List<TextBlock> blocks,
      @ForAll @IntRange(min = 16, max = 100) int maxTokens, @ForAll @IntRange(min = 0, max = 8) int overlapEighths,
      @ForAll boolean respectHeadings, @ForAll boolean llama) {
    String full = stripWhitespace(String.join("", blocks.stream().map(TextBlock::text).toList()));
    int overlap = maxTokens * overlapEighths / 16;
    try (Chunker chunker = Chunker.builder().tokenCounter(counter(llama)).maxTokens(maxTokens)
        .overlapTokens(overlap).respectHeadings(respectHeadings).build()) {
      List<Chunk> chunks = chunker.chunk(blocks);
      if (overlap == 0) {
        assertThat(stripWhitespace(String.join("", chunks.stream().map(Chunk::text).toList()))).isEqualTo(full);
        return;
      }
      int covered = 0;
      for (Chunk c : chunks) {
        String s = stripWhitespace(c.text());
        int at = full.lastIndexOf(s, covered);
        assertThat(at).as("chunk %s must start inside the covered prefix", c.index()).isGreaterThanOrEqualTo(0);
        assertThat(at + s.length()).isGreaterThanOrEqualTo(covered);
        covered = Math.max(covered, at + s.length());
      }
      assertThat(covered).isEqualTo(full.length());
    }
  }

  @Property(tries = 60)
  void sameInputGivesSameChunks(@ForAll("blocks") List<TextBlock> blocks,
      @ForAll @IntRange(min = 16, max = 120) int maxTokens) {
    try (Chunker chunker = Chunker.builder().tokenCounter(LLAMA).maxTokens(maxTokens).overlapTokens(maxTokens / 4)
        .build()) {
      assertThat(chunker.chunk(blocks)).isEqualTo(chunker.chunk(blocks));
    }
  }

  @Property(tries = 60)
  void tablesSplitBetweenRowsWithHeaderInEveryPart(@ForAll @IntRange(min = 1, max = 40) int rowCount,
      @ForAll("word") String cellWord, @ForAll @IntRange(min = 24, max = 120) int maxTokens) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("Id", "Requirement"));
    for (int i = 0; i < rowCount; i++) {
      rows.add(List.of("R" + i, (cellWord + " ").repeat(1 + i % 5).trim()));
    }
    Table table = Table.of(rows);
    String headerMd = Table.of(List.of(rows.get(0))).toMarkdown();
    try (Chunker chunker = Chunker.builder().tokenCounter(LLAMA).maxTokens(maxTokens).build()) {
      List<Chunk> chunks = chunker.chunk(List.of(TextBlock.ofTable(table, SourceRef.of("t.pdf", 1))));
      List<String> seen = new ArrayList<>();
      for (Chunk c : chunks) {
        assertThat(c.tokenCount()).isLessThanOrEqualTo(maxTokens);
        // Every row shares its chunk with a header line above it, unless the row is too long to share one.
        String text = c.text();
        for (String line : text.lines().filter(l -> l.startsWith("| R")).toList()) {
          int r = Integer.parseInt(line.substring(3, line.indexOf(' ', 3)));
          boolean fitsWithHeader =
              LLAMA.count(Table.of(List.of(rows.get(0), rows.get(r + 1))).toMarkdown()) <= maxTokens;
          if (fitsWithHeader) {
            assertThat(text.substring(0, text.indexOf(line))).contains(headerMd);
          }
        }
        for (String line : c.text().split("\n")) {
          if (line.startsWith("| R")) {
            seen.add(line.substring(2, line.indexOf(' ', 2)));
          }
        }
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < rowCount; i++) {
        expected.add("R" + i);
      }
      assertThat(seen).containsAll(expected);
    }
  }

  private static String stripWhitespace(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      if (!Character.isWhitespace(s.charAt(i))) {
        sb.append(s.charAt(i));
      }
    }
    return sb.toString();
  }
}

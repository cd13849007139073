package dev.securetag.pdf.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Lines from glyphs: raised and lowered glyphs stay in their line; two columns on one baseline stay apart. */
class LineBuilderTest {

  private static void word(List<Glyph> out, String s, float x, float baseline, float size) {
    for (char c : s.toCharArray()) {
      float w = size * 0.5f;
      out.add(new Glyph(String.valueOf(c), x, baseline - size * 0.7f, baseline, w, size, false));
      x += w;
    }
  }

  private static String text(List<Glyph> line) {
    StringBuilder sb = new StringBuilder();
    line.forEach(g -> sb.append(g.text()));
    return sb.toString();
  }

  @Test
  void keepsTheLatexLogoAndSuperscriptsInTheirLine() {
    // L, a smaller A raised 2 pt and tucked under the L, T, an E lowered 2.2 pt, X; then "News"; a footnote marker.
    List<Glyph> g = new ArrayList<>();
    g.add(new Glyph("L", 100, 90, 100, 6.2f, 10, false));
    g.add(new Glyph("A", 102.7f, 91.5f, 98, 5.9f, 7, false));
    g.add(new Glyph("T", 107, 90, 100, 7.2f, 10, false));
    g.add(new Glyph("E", 112.6f, 92.2f, 102.2f, 6.8f, 10, false));
    g.add(new Glyph("X", 118.1f, 90, 100, 7.5f, 10, false));
    word(g, "News", 130, 100, 10);
    g.add(new Glyph("1", 151, 93, 96, 3.5f, 7, false));
    word(g, "The next line of the paragraph", 100, 112, 10);
    List<List<Glyph>> lines = LineBuilder.lines(g);
    assertThat(lines).hasSize(2);
    assertThat(text(lines.get(0))).isEqualTo("LATEXNews1");
    assertThat(lines.get(0)).allSatisfy(x -> assertThat(x.baseline()).isEqualTo(100f));
  }

  @Test
  void doesNotMoveAGlyphIntoTheOtherColumnsLine() {
    // Left column line at baseline 100 with a lowered E; the right column's line sits at 102.2, the E's baseline.
    List<Glyph> g = new ArrayList<>();
    word(g, "typeset with LAT", 72, 100, 9);
    g.add(new Glyph("E", 72 + 16 * 4.5f, 93.9f, 102.2f, 4.5f, 9, false));
    word(g, "X and", 72 + 17 * 4.5f, 100, 9);
    word(g, "the right column text", 310, 102.2f, 9);
    List<Glyph> leftLine = null;
    for (List<Glyph> line : LineBuilder.lines(g)) {
      if (line.get(0).x() < 100) {
        leftLine = line;
      }
    }
    assertThat(leftLine).isNotNull();
    assertThat(text(leftLine).replace(" ", "")).isEqualTo("typesetwithLATEXand");
  }
}

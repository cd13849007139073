package dev.securetag.dataset.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class SentenceSplitterTest {
  private static List<String> split(String text, Locale locale) {
    return SentenceSplitter.split(text, 0, text.length(), locale).stream()
        .map(r -> text.substring(r[0], r[1])).toList();
  }

  @Test
  void doesNotBreakAfterSpanishAbbreviations() {
    assertThat(split("El Sr. García revisa la pág. 12 del art. 5. Después firma.", new Locale("es")))
        .containsExactly("El Sr. García revisa la pág. 12 del art. 5.", "Después firma.");
  }

  @Test
  void doesNotBreakAfterEnglishAbbreviations() {
    assertThat(split("Use strong controls, e.g. MFA. Review them yearly.", Locale.ENGLISH))
        .containsExactly("Use strong controls, e.g. MFA.", "Review them yearly.");
  }

  @Test
  void coversEveryNonWhitespaceCharacterOfTheRange() {
    String text = "  One.  Two?\n\nThree!  ";
    assertThat(String.join("", split(text, Locale.ENGLISH))).isEqualTo("One.Two?Three!");
  }
}

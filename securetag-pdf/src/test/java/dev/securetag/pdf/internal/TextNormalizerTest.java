package dev.securetag.pdf.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TextNormalizerTest {

  private static String join(String a, String b, Set<String> vocab) {
    StringBuilder sb = new StringBuilder(a);
    TextNormalizer.appendLine(sb, b, vocab);
    return sb.toString();
  }

  @Test
  void joinsLowerCaseWordSplitAtLineEnd() {
    assertThat(join("the inform-", "ation is kept", Set.of())).isEqualTo("the information is kept");
    assertThat(join("la autentica-", "ción multifactor", Set.of())).isEqualTo("la autenticación multifactor");
  }

  @Test
  void keepsHyphenOfCompoundsSeenInTheDocumentAndOfCodes() {
    Set<String> vocab = new HashSet<>();
    TextNormalizer.collectHyphenated("use only well-known (topic-specific) algorithms", vocab);
    assertThat(vocab).contains("well-known", "topic-specific");
    assertThat(join("a well-", "known method", vocab)).isEqualTo("a well-known method");
    assertThat(join("hash with SHA-", "256 only", Set.of())).isEqualTo("hash with SHA-256 only");
    assertThat(join("see AC-", "2 above", Set.of())).isEqualTo("see AC-2 above");
  }

  @Test
  void neverJoinsSuspendedHyphens() {
    assertThat(join("pre-", "and post-processing", Set.of())).isEqualTo("pre- and post-processing");
    assertThat(join("pre-", "y post-procesamiento", Set.of())).isEqualTo("pre- y post-procesamiento");
  }

  @Test
  void normalizesLigaturesSpacesAndDropsInvisibleGlyphs() {
    assertThat(TextNormalizer.normalize("\uFB01le  con\uFB02ict\u00A0\u2003x\u00ADy\uE000\uFFFD z"))
        .isEqualTo("file conflict xy z");
    assertThat(TextNormalizer.normalize("x\u00B2 \u00BD")).isEqualTo("x\u00B2 \u00BD");
  }

  @Test
  void judgesTextQuality() {
    assertThat(TextQuality.judge("The organization shall define and approve the policies for information security "
        + "and review them at planned intervals and when significant changes occur in the organization.", 0)
        .usable()).isTrue();
    assertThat(TextQuality.judge("Áåçîïàñíîñòü èíôîðìàöèè ÿâëÿåòñÿ âàæíîé ÷àñòüþ óïðàâëåíèÿ ðèñêàìè", 0)
        .usable()).isFalse();
    assertThat(TextQuality.judge("Безопасность информации является важной частью управления рисками организации", 0)
        .usable()).isTrue();
    assertThat(TextQuality.judge("Wkh rujdqlcdwlrq vkdoo ghilqh dqg dssuryh wkh srolflhv iru lqirupdwlrq vhfxulwb "
        + "dqg uhylhz wkhp dw sodqqhg lqwhuydov dqg zkhq vljqlilfdqw fkdqjhv rffxu lq wkh rujdqlcdwlrq wr wkh "
        + "vbvwhpv dqg gdwd ri wkh frpsdqb iru doo xvhuv", 0).usable()).isFalse();
  }
}

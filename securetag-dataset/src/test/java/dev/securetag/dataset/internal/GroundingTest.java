package dev.securetag.dataset.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.dataset.Language;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GroundingTest {
  @Test
  void overlapFoldsAccentsAndInflections() {
    Set<String> vocab = Grounding.vocabulary("Las políticas de seguridad deben revisarse anualmente.");
    assertThat(Grounding.overlap("La politica de seguridad se revisa anualmente", vocab)).isGreaterThanOrEqualTo(0.75);
    assertThat(Grounding.overlap("Bananas are yellow", vocab)).isZero();
  }

  @Test
  void detectsAnswersThatRepeatTheQuestion() {
    assertThat(Grounding.copiesQuestion("What does A.5.1 require?", "What does A.5.1 require?")).isTrue();
    assertThat(Grounding.copiesQuestion("What is the access control policy?", "The access control policy."))
        .isTrue();
    assertThat(Grounding.copiesQuestion("What does A.5.1 require?", "Policies approved by management.")).isFalse();
  }

  @Test
  void languageDetectorTellsSpanishFromEnglish() {
    assertThat(LanguageDetector.detect("La organización debe definir una política de seguridad."))
        .isEqualTo(Language.ES);
    assertThat(LanguageDetector.detect("The organization shall define a security policy.")).isEqualTo(Language.EN);
  }
}

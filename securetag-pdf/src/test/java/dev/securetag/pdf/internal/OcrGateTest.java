package dev.securetag.pdf.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.pdf.internal.OcrEngine.Line;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gate on OCR output: line confidence, then the text check. Confidences as Tesseract reported them. */
class OcrGateTest {

  private static Line line(String text, float confidence) {
    return new Line(text, confidence, (int) text.chars().filter(Character::isLetter).count(), false, 40);
  }

  @Test
  void dropsLowConfidenceLinesAndKeepsTheReadableOnes() {
    // numnameru.pdf page 1 read with spa+eng: English lines at 94-96, its Russian read as Latin look-alikes.
    OcrGate.Outcome o = OcrGate.gate(List.of(
        line("This package converts a numerical number to the russian spelled out", 95),
        line("name of the number. For example, 1 > oaun, 2 > gpa, 12 > 1Be-", 81),
        line("CeMb MHJIJIMOHOB YeTbIPecTa BOCOMBACCAT TPM TBICAYM MIECTECOT", 48),
        line("ITOT HMAKeT MO3BOJIACT IpeoOpa30BaTb YHCJIO B UHMCJIO IpOMNCbIo Ha", 29),
        line("This code was based on 'numname.sty' by Peter R. Wilson.", 94)));
    assertThat(o.usable()).isTrue();
    assertThat(o.dropped()).isEqualTo(2);
    assertThat(o.text()).contains("This package converts").doesNotContain("MHJIJIMOHOB").doesNotContain("HMAKeT");
    assertThat(o.stats()).contains("2 of 5 lines below confidence 70");
  }

  @Test
  void rejectsAPageMostlyInAnUnreadScript() {
    // test_beamer.pdf page 7 (Arabic) read with spa+eng: short "words" that a text check alone would let through.
    OcrGate.Outcome o = OcrGate.gate(List.of(line("ES]", 71), line("bal ple", 62), line("bd} plo sox)", 63),
        line("yeu ea ea", 25), line("bel cH cy El a «pbs", 48)));
    assertThat(o.usable()).isFalse();
    assertThat(o.reason()).contains("confidence gate").contains("4 of 5 lines");
    assertThat(o.kept()).isEmpty();
  }

  @Test
  void acceptsCleanOutputAndEmptyPages() {
    assertThat(OcrGate.gate(List.of(line("Incident response procedures shall be documented", 93))).usable()).isTrue();
    OcrGate.Outcome empty = OcrGate.gate(List.of());
    assertThat(empty.usable()).isTrue();
    assertThat(empty.text()).isEmpty();
  }
}

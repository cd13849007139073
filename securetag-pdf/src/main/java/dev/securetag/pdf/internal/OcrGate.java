package dev.securetag.pdf.internal;

import dev.securetag.pdf.internal.OcrEngine.Line;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The quality gate for OCR output. Tesseract reads a page in a script its languages do not cover as confident-looking
 * short words ("Yet JN ya do Y"), and a text-only check lets that through because noise contains common short
 * words. Word confidence separates it: correctly read lines average 85-97, lines of an unknown script 10-60. Lines
 * under {@link #MIN_LINE_CONFIDENCE} are dropped; the page fails when most of its letters were dropped or what is
 * left fails the same {@link TextQuality} check as a text layer.
 */
final class OcrGate {

  /** Lines whose letter-weighted mean word confidence is below this are dropped. */
  static final float MIN_LINE_CONFIDENCE = 70f;
  /** The page fails when less than this share of its recognised letters is in lines that passed. */
  static final double MIN_KEPT_SHARE = 0.4;

  private OcrGate() {}

  /** What the gate made of one page's OCR lines. */
  record Outcome(List<Line> kept, int dropped, int keptLetters, int letters, double meanConfidence, boolean usable,
      String reason) {

    /** The kept lines as text: lines joined by newlines, paragraphs by a blank line. */
    String text() {
      StringBuilder sb = new StringBuilder();
      for (Line l : kept) {
        if (l.text().isEmpty()) {
          continue;
        }
        if (l.paragraphStart() && sb.length() > 0) {
          sb.append('\n');
        }
        sb.append(l.text()).append('\n');
      }
      return sb.toString();
    }

    /** A short description for page issues, e.g. "mean word confidence 41". */
    String stats() {
      return String.format(Locale.ROOT, "%d of %d lines below confidence %.0f, mean word confidence %.0f",
          dropped, kept.size() + dropped, MIN_LINE_CONFIDENCE, meanConfidence);
    }
  }

  static Outcome gate(List<Line> lines) {
    List<Line> kept = new ArrayList<>(lines.size());
    int letters = 0;
    int keptLetters = 0;
    double weighted = 0;
    int dropped = 0;
    for (Line l : lines) {
      letters += l.letters();
      weighted += (double) l.confidence() * l.letters();
      if (l.confidence() >= MIN_LINE_CONFIDENCE) {
        kept.add(l);
        keptLetters += l.letters();
      } else {
        dropped++;
      }
    }
    double mean = letters == 0 ? 0 : weighted / letters;
    if (letters == 0) {
      // Nothing recognised (a photo, an empty scan): nothing to emit and nothing wrong with it.
      return new Outcome(kept, dropped, 0, 0, mean, true, "");
    }
    if (keptLetters < MIN_KEPT_SHARE * letters) {
      return new Outcome(List.of(), lines.size(), 0, letters, mean, false, String.format(Locale.ROOT,
          "OCR output failed the confidence gate: %d of %d lines below %.0f, mean word confidence %.0f", dropped,
          lines.size(), MIN_LINE_CONFIDENCE, mean));
    }
    Outcome candidate = new Outcome(kept, dropped, keptLetters, letters, mean, true, "");
    TextQuality.Verdict v = TextQuality.judge(TextNormalizer.normalize(candidate.text()), 0);
    if (!v.usable()) {
      return new Outcome(List.of(), lines.size(), 0, letters, mean, false, "OCR output is unusable (" + v.reason()
          + ")");
    }
    return candidate;
  }
}

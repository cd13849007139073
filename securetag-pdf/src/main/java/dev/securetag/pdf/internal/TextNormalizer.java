package dev.securetag.pdf.internal;

import java.text.Normalizer;
import java.util.Locale;
import java.util.Set;

/**
 * Text cleanup that PDFBox does not do: ligatures and presentation forms to letters, odd spaces to a plain
 * space, soft hyphens, private-use glyphs, control characters and replacement characters removed, and conservative
 * joining of lines split by an end-of-line hyphen. A blanket NFKC is avoided because it rewrites superscripts,
 * fractions and symbols that may carry meaning in a standard.
 */
final class TextNormalizer {

  /** Words after a line-end hyphen that mark a suspended hyphen ("pre- and post-processing"). */
  private static final Set<String> CONJUNCTIONS =
      Set.of("y", "e", "o", "u", "ni", "and", "or", "nor", "und", "oder", "et", "ou");

  private TextNormalizer() {}

  /** Normalises one piece of extracted text (no line joining). */
  public static String normalize(CharSequence in) {
    StringBuilder sb = new StringBuilder(in.length());
    for (int i = 0; i < in.length(); i++) {
      char c = in.charAt(i);
      if (c == '\u00AD' || c == '\uFFFD' || c == '\u200B' || c == '\uFEFF' || c == '\u200C' || c == '\u200D') {
        continue;
      }
      if (c >= '\uE000' && c <= '\uF8FF') {
        continue;
      }
      if (c == '\n' || c == '\t') {
        sb.append(c == '\t' ? ' ' : '\n');
        continue;
      }
      if (Character.isISOControl(c)) {
        continue;
      }
      if (c == '\u00A0' || (c >= '\u2000' && c <= '\u200A') || c == '\u202F' || c == '\u205F' || c == '\u3000') {
        sb.append(' ');
        continue;
      }
      if ((c >= '\uFB00' && c <= '\uFB06') || (c >= '\uFB50' && c <= '\uFDFF') || (c >= '\uFE70' && c <= '\uFEFF')) {
        sb.append(Normalizer.normalize(String.valueOf(c), Normalizer.Form.NFKC));
        continue;
      }
      if (c == '\u2010' || c == '\u2011') {
        sb.append('-');
        continue;
      }
      sb.append(c);
    }
    return collapseSpaces(sb);
  }

  private static String collapseSpaces(CharSequence s) {
    StringBuilder out = new StringBuilder(s.length());
    boolean space = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == ' ') {
        space = true;
        continue;
      }
      if (space && out.length() > 0 && out.charAt(out.length() - 1) != '\n' && c != '\n') {
        out.append(' ');
      }
      space = false;
      out.append(c);
    }
    return out.toString();
  }

  /**
   * Appends {@code next} (the following line of the same column or cell) to {@code text}, undoing an end-of-line
   * hyphen where that is safe.
   *
   * @param hyphenatedVocabulary lower-cased words seen with an inner hyphen elsewhere in the document ("well-known");
   *     such words keep their hyphen when split at it
   */
  public static void appendLine(StringBuilder text, String next, Set<String> hyphenatedVocabulary) {
    if (next.isEmpty()) {
      return;
    }
    if (text.length() == 0) {
      text.append(next);
      return;
    }
    int end = text.length() - 1;
    char last = text.charAt(end);
    if (last == '-' && end > 0 && Character.isLetter(text.charAt(end - 1))) {
      String head = lastToken(text, end);
      String tail = firstToken(next);
      String tailWord = tail.replaceAll("[^\\p{L}\\p{N}-].*$", "");
      boolean lowerBoth =
          !head.isEmpty() && Character.isLowerCase(text.charAt(end - 1))
              && !tailWord.isEmpty() && Character.isLowerCase(tailWord.charAt(0));
      if (CONJUNCTIONS.contains(tailWord.toLowerCase(Locale.ROOT)) || tailWord.isEmpty()) {
        text.append(' ').append(next);
        return;
      }
      boolean headHasCapsOrDigits =
          head.chars().anyMatch(Character::isDigit) || head.chars().skip(1).anyMatch(Character::isUpperCase);
      String hyphenated = (head + "-" + tailWord).toLowerCase(Locale.ROOT);
      if (lowerBoth && !headHasCapsOrDigits && !hyphenatedVocabulary.contains(hyphenated)) {
        text.setLength(end);
        text.append(next);
      } else {
        text.append(next);
      }
      return;
    }
    if (last != ' ' && last != '\n') {
      text.append(' ');
    }
    text.append(next);
  }

  private static String lastToken(CharSequence s, int endExclusive) {
    int i = endExclusive;
    while (i > 0 && !Character.isWhitespace(s.charAt(i - 1))) {
      i--;
    }
    return s.subSequence(i, endExclusive).toString();
  }

  private static String firstToken(String s) {
    int i = 0;
    while (i < s.length() && !Character.isWhitespace(s.charAt(i))) {
      i++;
    }
    return s.substring(0, i);
  }

  /** Collects the lower-cased words that contain an inner hyphen ("well-known") from one line of text. */
  public static void collectHyphenated(String line, Set<String> into) {
    int n = line.length();
    int start = 0;
    for (int i = 0; i <= n; i++) {
      if (i == n || Character.isWhitespace(line.charAt(i))) {
        if (i - start > 2) {
          int a = start;
          int b = i;
          while (a < b && !Character.isLetter(line.charAt(a))) {
            a++;
          }
          while (b > a && !Character.isLetter(line.charAt(b - 1))) {
            b--;
          }
          int h = line.indexOf('-', a);
          if (h > a && h < b - 1) {
            into.add(line.substring(a, b).toLowerCase(Locale.ROOT));
          }
        }
        start = i + 1;
      }
    }
  }
}

package dev.securetag.pdf.internal;

import java.util.Locale;
import java.util.Set;

/**
 * Decides whether a page's text layer is usable. Broken font encodings produce plausible-looking garbage in every
 * extractor, so "has text" is not enough: this looks at replacement/private-use characters, the Latin-1 mojibake
 * signature, and for Latin-script pages the share of common English/Spanish words and of words without vowels.
 * Non-Latin scripts (Cyrillic, CJK, Arabic) are judged only by the character signals so that correct non-Latin text
 * is not sent to an OCR that only knows English and Spanish.
 */
final class TextQuality {

  private static final Set<String> COMMON = Set.of(
      "the", "of", "and", "to", "a", "in", "is", "for", "be", "that", "on", "with", "as", "by", "are", "or", "an",
      "it", "this", "at", "from", "shall", "should", "must", "not", "all", "any", "each", "its", "which", "has",
      "have", "been", "will", "can", "may", "their", "these", "such", "when", "where", "other", "information",
      "de", "la", "el", "en", "y", "los", "las", "del", "que", "se", "por", "con", "para", "una", "un", "es", "al",
      "lo", "su", "sus", "como", "o", "debe", "deben", "datos", "todos", "cada", "sistema", "seguridad");

  private static final java.util.regex.Pattern WORD_SPLIT = java.util.regex.Pattern.compile("[^\\p{L}]+");

  private TextQuality() {}

  private static boolean hasVowel(String tok) {
    for (int i = 0; i < tok.length(); i++) {
      if ("aeiouyáéíóúü".indexOf(tok.charAt(i)) >= 0) {
        return true;
      }
    }
    return false;
  }

  /** The verdict on one page's text. */
  public record Verdict(boolean usable, String reason) {}

  /** Judges the text extracted from one page. */
  public static Verdict judge(String text, int rawBadChars) {
    int letters = 0;
    int latin = 0;
    int latin1Sup = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isLetter(c)) {
        letters++;
        if (Character.UnicodeScript.of(c) == Character.UnicodeScript.LATIN) {
          latin++;
          if (c >= '\u00C0' && c <= '\u00FF') {
            latin1Sup++;
          }
        }
      }
    }
    int total = Math.max(1, letters + rawBadChars);
    if (rawBadChars > 10 && rawBadChars * 5 > total) {
      return new Verdict(false, rawBadChars + " replacement or private-use characters");
    }
    if (letters < 20) {
      return new Verdict(true, "");
    }
    if (latin1Sup * 100 > letters * 30) {
      return new Verdict(false, "Latin-1 mojibake signature (" + (latin1Sup * 100 / letters) + "% accented letters)");
    }
    if (latin * 2 < letters) {
      return new Verdict(true, "");
    }
    int words = 0;
    int common = 0;
    int noVowel = 0;
    for (String tok : WORD_SPLIT.split(text.toLowerCase(Locale.ROOT))) {
      if (tok.isEmpty()) {
        continue;
      }
      words++;
      if (COMMON.contains(tok)) {
        common++;
      }
      if (tok.length() >= 3 && !hasVowel(tok)) {
        noVowel++;
      }
    }
    if (words >= 30 && common * 100 < words * 4 && noVowel * 100 > words * 25) {
      return new Verdict(false, "text does not look like language (" + common + " common words, " + noVowel
          + " words without vowels out of " + words + ")");
    }
    if (words >= 30 && common == 0) {
      return new Verdict(false, "no common English or Spanish word among " + words + " words");
    }
    return new Verdict(true, "");
  }
}

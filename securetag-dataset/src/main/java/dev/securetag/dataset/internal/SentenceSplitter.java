package dev.securetag.dataset.internal;

import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Sentence boundaries from {@link BreakIterator} corrected with an abbreviation list: the JDK breaks after "Sr." or
 * "pág." or "e.g." whenever a capital follows, which would cut Spanish and English standards text mid-sentence.
 */
public final class SentenceSplitter {
  private static final Set<String> ABBREVIATIONS =
      Set.of(
          // Spanish
          "sr", "sra", "srta", "sres", "dr", "dra", "dña", "d", "pág", "págs", "art", "arts", "núm", "nº", "no",
          "cap", "fig", "ej", "vol", "ud", "uds", "avda", "admón", "aprox", "cf", "p", "pp", "apdo", "dto",
          "ss", "sig", "op", "cit", "ed",
          // English
          "mr", "mrs", "ms", "prof", "e.g", "i.e", "vs", "sec", "approx", "inc", "ltd", "co", "corp", "st", "al",
          "eq", "ref", "refs", "ch", "jr");

  private SentenceSplitter() {}

  /**
   * Sentence ranges inside {@code text[start, end)}, each trimmed of surrounding whitespace, in order, covering
   * every non-whitespace character of the range exactly once.
   */
  public static List<int[]> split(String text, int start, int end, Locale locale) {
    List<int[]> out = new ArrayList<>();
    BreakIterator it = BreakIterator.getSentenceInstance(locale);
    it.setText(text.substring(start, end));
    int from = 0;
    int pendingStart = -1;
    for (int b = it.next(); b != BreakIterator.DONE; b = it.next()) {
      int s = pendingStart >= 0 ? pendingStart : from;
      if (b < end - start && endsWithAbbreviation(text, start + s, start + b)) {
        pendingStart = s;
        from = b;
        continue;
      }
      addTrimmed(text, start + s, start + b, out);
      pendingStart = -1;
      from = b;
    }
    if (pendingStart >= 0) {
      addTrimmed(text, start + pendingStart, end, out);
    }
    return out;
  }

  private static boolean endsWithAbbreviation(String text, int s, int e) {
    int i = e;
    while (i > s && Character.isWhitespace(text.charAt(i - 1))) {
      i--;
    }
    if (i == s || text.charAt(i - 1) != '.') {
      return false;
    }
    int wordEnd = i - 1;
    int j = wordEnd;
    while (j > s && !Character.isWhitespace(text.charAt(j - 1)) && text.charAt(j - 1) != '(') {
      j--;
    }
    if (j == wordEnd) {
      return false;
    }
    String word = text.substring(j, wordEnd).toLowerCase(Locale.ROOT);
    return ABBREVIATIONS.contains(word);
  }

  private static void addTrimmed(String text, int s, int e, List<int[]> out) {
    while (s < e && Character.isWhitespace(text.charAt(s))) {
      s++;
    }
    while (e > s && Character.isWhitespace(text.charAt(e - 1))) {
      e--;
    }
    if (s < e) {
      out.add(new int[] {s, e});
    }
  }
}

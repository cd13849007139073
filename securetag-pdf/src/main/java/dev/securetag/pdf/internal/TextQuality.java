package dev.securetag.pdf.internal;

import java.lang.Character.UnicodeScript;
import java.text.Normalizer;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decides whether a page's text (its text layer, or what OCR read) is usable. Broken font encodings produce
 * plausible-looking garbage in every extractor, so "has text" is not enough. The check is script-aware: it finds the
 * page's main Unicode script (Han and kana weigh more than alphabet letters) and only applies the Latin-language
 * tests (Latin-1 mojibake, letter frequencies, words without vowels) to Latin-script pages, so correct Chinese,
 * Cyrillic or Arabic text is never judged by English statistics. It does not require common English or Spanish
 * words: indexes, tables of contents, code and word lists in any Latin-script language have none and are text.
 */
final class TextQuality {

  private static final Set<String> COMMON = Set.of(
      "the", "of", "and", "to", "a", "in", "is", "for", "be", "that", "on", "with", "as", "by", "are", "or", "an",
      "it", "this", "at", "from", "shall", "should", "must", "not", "all", "any", "each", "its", "which", "has",
      "have", "been", "will", "can", "may", "their", "these", "such", "when", "where", "other", "information",
      "de", "la", "el", "en", "y", "los", "las", "del", "que", "se", "por", "con", "para", "una", "un", "es", "al",
      "lo", "su", "sus", "como", "o", "debe", "deben", "datos", "todos", "cada", "sistema", "seguridad");

  private static final Pattern WORD_SPLIT = Pattern.compile("[^\\p{L}]+");
  /** The eight most frequent letters of English, Spanish, French, German, Italian, Portuguese and Dutch text. */
  private static final String FREQUENT = "etaoinsr";
  private static final String LATIN_VOWELS = "aeiouy";
  private static final String CYRILLIC_VOWELS = "аеёиоуыэюяієїў";

  private static final UnicodeScript[] SCRIPTS = UnicodeScript.values();
  private static final boolean[] FREQUENT_ASCII = new boolean[128];

  static {
    for (char c : FREQUENT.toCharArray()) {
      FREQUENT_ASCII[c] = true;
    }
  }
  private static final int LATIN_ORDINAL = UnicodeScript.LATIN.ordinal();

  private TextQuality() {}

  /**
   * The verdict on one page's text.
   *
   * @param script the page's main script (LATIN, CYRILLIC, HAN, ...), COMMON when it has almost no letters
   */
  public record Verdict(boolean usable, String reason, UnicodeScript script) {
    Verdict(boolean usable, String reason) {
      this(usable, reason, UnicodeScript.COMMON);
    }
  }

  /** Judges the text of one page; {@code rawBadChars} counts replacement and private-use glyphs removed from it. */
  public static Verdict judge(String text, int rawBadChars) {
    int[] byScript = new int[SCRIPTS.length];
    int letters = 0;
    int latin = 0;
    int latin1Sup = 0;
    int frequent = 0;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (cp < 0x80) {
        // ASCII fast path: most pages are mostly ASCII.
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') {
          letters++;
          latin++;
          byScript[LATIN_ORDINAL]++;
          if (FREQUENT_ASCII[cp | 0x20]) {
            frequent++;
          }
        }
        continue;
      }
      if (!Character.isLetter(cp)) {
        continue;
      }
      letters++;
      UnicodeScript s = UnicodeScript.of(cp);
      byScript[s.ordinal()] += Scripts.weight(s);
      if (s == UnicodeScript.LATIN) {
        latin++;
        if (cp >= 0xC0 && cp <= 0xFF) {
          latin1Sup++;
        }
        if (FREQUENT.indexOf(baseLetter(cp)) >= 0) {
          frequent++;
        }
      }
    }
    UnicodeScript main = UnicodeScript.COMMON;
    int mainWeight = 0;
    int totalWeight = 0;
    for (int k = 0; k < byScript.length; k++) {
      totalWeight += byScript[k];
      if (byScript[k] > mainWeight) {
        mainWeight = byScript[k];
        main = SCRIPTS[k];
      }
    }
    int total = Math.max(1, letters + rawBadChars);
    if (rawBadChars > 10 && rawBadChars * 5 > total) {
      return new Verdict(false, rawBadChars + " replacement or private-use characters", main);
    }
    if (letters < 20) {
      return new Verdict(true, "", letters == 0 ? UnicodeScript.COMMON : main);
    }
    if (main == UnicodeScript.LATIN) {
      // Real text in another script beside the Latin (a Chinese page with code, a Russian page with English names)
      // makes the Latin part names and identifiers rather than prose: only the character-level checks apply then.
      boolean mixed = (totalWeight - byScript[LATIN_ORDINAL]) * 4 >= totalWeight;
      return mixed ? new Verdict(true, "", main) : judgeLatin(text, latin, latin1Sup, frequent);
    }
    if (main == UnicodeScript.CYRILLIC) {
      return judgeVowels(text, UnicodeScript.CYRILLIC, CYRILLIC_VOWELS);
    }
    return new Verdict(true, "", main);
  }

  private static Verdict judgeLatin(String text, int latin, int latin1Sup, int frequent) {
    if (latin1Sup * 100 > latin * 30) {
      return new Verdict(false, "Latin-1 mojibake signature (" + (latin1Sup * 100 / latin) + "% accented letters)",
          UnicodeScript.LATIN);
    }
    // In every Latin-script European language the letters e t a o i n s r make up more than half of the text; a
    // broken font encoding that maps glyphs to other letters drops them to a quarter or less.
    if (latin >= 200 && frequent * 100 < latin * 35) {
      return new Verdict(false, "letter frequencies unlike any language (" + (frequent * 100 / latin)
          + "% of letters are e,t,a,o,i,n,s,r)", UnicodeScript.LATIN);
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
      if (tok.length() >= 3 && !hasVowel(tok, LATIN_VOWELS)) {
        noVowel++;
      }
    }
    if (words >= 30 && common * 100 < words * 4 && noVowel * 100 > words * 25) {
      return new Verdict(false, "text does not look like language (" + common + " common words, " + noVowel
          + " words without vowels out of " + words + ")", UnicodeScript.LATIN);
    }
    return new Verdict(true, "", UnicodeScript.LATIN);
  }

  private static Verdict judgeVowels(String text, UnicodeScript script, String vowels) {
    int words = 0;
    int noVowel = 0;
    for (String tok : WORD_SPLIT.split(text.toLowerCase(Locale.ROOT))) {
      if (tok.length() < 3 || UnicodeScript.of(tok.codePointAt(0)) != script) {
        continue;
      }
      words++;
      if (!hasVowel(tok, vowels)) {
        noVowel++;
      }
    }
    if (words >= 30 && noVowel * 100 > words * 35) {
      return new Verdict(false, "text does not look like language (" + noVowel + " of " + words
          + " words without vowels)", script);
    }
    return new Verdict(true, "", script);
  }

  private static char baseLetter(int cp) {
    if (cp < 0x80) {
      return Character.toLowerCase((char) cp);
    }
    String d = Normalizer.normalize(new String(Character.toChars(cp)), Normalizer.Form.NFD);
    return Character.toLowerCase(d.charAt(0));
  }

  private static boolean hasVowel(String tok, String vowels) {
    for (int i = 0; i < tok.length(); i++) {
      char c = tok.charAt(i);
      if (vowels.indexOf(c) >= 0 || "áéíóúüàèìòùâêîôûäëïöÿ".indexOf(c) >= 0) {
        return true;
      }
    }
    return false;
  }
}

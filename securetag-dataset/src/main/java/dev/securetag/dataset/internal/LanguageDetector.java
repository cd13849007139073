package dev.securetag.dataset.internal;

import dev.securetag.dataset.Language;
import java.util.Locale;
import java.util.Set;

/**
 * Tells Spanish from English by counting function words and Spanish-only letters. Enough for choosing a prompt or
 * a sentence splitter; no statistical model needed for two languages this different.
 */
public final class LanguageDetector {
  private static final Set<String> ES =
      Set.of("de", "la", "que", "el", "en", "los", "del", "las", "por", "para", "con", "una", "se", "es", "al",
          "lo", "como", "más", "sus", "debe", "deben", "su", "y", "o", "sobre", "entre", "cuando", "este", "esta",
          "qué", "cuál", "ser", "son", "también", "según");
  private static final Set<String> EN =
      Set.of("the", "of", "and", "to", "in", "is", "that", "for", "be", "with", "as", "are", "by", "this",
          "should", "shall", "must", "on", "or", "an", "it", "from", "which", "what", "does", "all", "its", "at",
          "has", "have", "not", "can", "when", "each");

  private LanguageDetector() {}

  /** {@link Language#ES} or {@link Language#EN}; English when there is no evidence either way. */
  public static Language detect(String text) {
    int es = 0;
    int en = 0;
    int limit = Math.min(text.length(), 4000);
    StringBuilder word = new StringBuilder();
    for (int i = 0; i <= limit; i++) {
      char c = i < limit ? text.charAt(i) : ' ';
      if (Character.isLetter(c)) {
        word.append(Character.toLowerCase(c));
        if ("ñáéíóú".indexOf(Character.toLowerCase(c)) >= 0) {
          es++;
        }
      } else {
        if (c == '¿' || c == '¡') {
          es += 2;
        }
        if (word.length() > 0) {
          String w = word.toString();
          if (ES.contains(w)) {
            es++;
          }
          if (EN.contains(w)) {
            en++;
          }
          word.setLength(0);
        }
      }
    }
    return es > en ? Language.ES : Language.EN;
  }

  /** The locale for sentence splitting of {@code text}. */
  public static Locale locale(String text) {
    return detect(text).locale();
  }
}

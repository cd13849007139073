package dev.securetag.dataset.internal;

import java.text.Normalizer;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Cheap checks that a generated answer comes from its chunk: the share of the answer's content words (accents
 * folded, stop words removed, a 5-letter prefix standing in for a stem) that occur in the chunk, and whether the
 * answer only repeats the question.
 */
public final class Grounding {
  private static final Set<String> STOP = Set.of(
      "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "her", "was", "one", "our", "out", "has",
      "have", "had", "its", "this", "that", "with", "from", "they", "will", "would", "there", "their", "what",
      "which", "when", "where", "who", "how", "why", "does", "did", "into", "than", "then", "them", "these",
      "those", "such", "also", "should", "shall", "must", "may", "been", "being", "were", "about", "other",
      "los", "las", "del", "por", "para", "con", "una", "uno", "unos", "unas", "que", "como", "mas", "sus", "este",
      "esta", "estos", "estas", "ese", "esa", "son", "ser", "fue", "han", "hay", "sin", "sobre", "entre", "cuando",
      "donde", "quien", "cual", "cuales", "debe", "deben", "puede", "pueden", "tambien", "segun", "desde", "hasta",
      "qué", "cuál");

  private Grounding() {}

  /** Content words of {@code text}: lower-cased, accents folded, at least 3 characters, no stop words. */
  public static Set<String> words(String text) {
    String folded = Normalizer.normalize(text, Normalizer.Form.NFD).replaceAll("\\p{M}+", "")
        .toLowerCase(Locale.ROOT);
    Set<String> out = new LinkedHashSet<>();
    StringBuilder w = new StringBuilder();
    for (int i = 0; i <= folded.length(); i++) {
      char c = i < folded.length() ? folded.charAt(i) : ' ';
      if (Character.isLetterOrDigit(c)) {
        w.append(c);
      } else if (w.length() > 0) {
        String s = w.toString();
        if (s.length() >= 3 && !STOP.contains(s)) {
          out.add(s);
        }
        w.setLength(0);
      }
    }
    return out;
  }

  /** The vocabulary of a chunk, with 5-letter prefixes of long words so inflected forms match. */
  public static Set<String> vocabulary(String text) {
    Set<String> v = new HashSet<>();
    for (String w : words(text)) {
      v.add(w);
      if (w.length() >= 6) {
        v.add(w.substring(0, 5) + "*");
      }
    }
    return v;
  }

  /** Share of {@code answer}'s content words found in {@code vocabulary}; 0 when it has none. */
  public static double overlap(String answer, Set<String> vocabulary) {
    Set<String> words = words(answer);
    if (words.isEmpty()) {
      return 0;
    }
    int hit = 0;
    for (String w : words) {
      if (contains(vocabulary, w)) {
        hit++;
      }
    }
    return (double) hit / words.size();
  }

  /** True when the answer adds nothing to the question: the same text, or only words the question already has. */
  public static boolean copiesQuestion(String question, String answer) {
    String q = TextNormalizer.normalize(question).replaceAll("[¿?¡!.]", "").strip();
    String a = TextNormalizer.normalize(answer).replaceAll("[¿?¡!.]", "").strip();
    if (a.equals(q) || (!a.isEmpty() && q.contains(a))) {
      return true;
    }
    Set<String> aw = words(answer);
    if (aw.isEmpty()) {
      return false;
    }
    Set<String> qv = vocabulary(question);
    for (String w : aw) {
      if (!contains(qv, w)) {
        return false;
      }
    }
    return true;
  }

  private static boolean contains(Set<String> vocabulary, String w) {
    return vocabulary.contains(w) || (w.length() >= 6 && vocabulary.contains(w.substring(0, 5) + "*"));
  }
}

package dev.securetag.dataset.internal;

import java.text.Normalizer;
import java.util.Locale;

/** The normalisation behind exact dedupe: NFKC, lower case, whitespace collapsed, trimmed (spec §9.5). */
public final class TextNormalizer {
  private TextNormalizer() {}

  public static String normalize(String s) {
    String n = (isAscii(s) ? s : Normalizer.normalize(s, Normalizer.Form.NFKC)).toLowerCase(Locale.ROOT);
    StringBuilder sb = new StringBuilder(n.length());
    boolean space = false;
    for (int i = 0; i < n.length(); i++) {
      char c = n.charAt(i);
      if (Character.isWhitespace(c)) {
        space = sb.length() > 0;
      } else {
        if (space) {
          sb.append(' ');
          space = false;
        }
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /**
   * A 64-bit fingerprint of the normalised text: two independent FNV-1a passes mixed together. Collisions among a
   * million texts have probability about 3e-8; a cryptographic hash would cost more than the rest of dedupe.
   */
  public static long fingerprint(String normalized) {
    long h = Mix.hash(normalized, 0, normalized.length());
    long g = 0x84222325cbf29ce4L;
    for (int i = normalized.length() - 1; i >= 0; i--) {
      g = (g ^ normalized.charAt(i)) * 0x100000001b3L;
    }
    return h ^ Long.rotateLeft(Mix.mix64(g), 31);
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }
}

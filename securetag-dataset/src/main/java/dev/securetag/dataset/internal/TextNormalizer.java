package dev.securetag.dataset.internal;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Locale;

/** The normalisation behind exact dedupe: NFKC, lower case, whitespace collapsed, trimmed (spec §9.5). */
public final class TextNormalizer {
  private TextNormalizer() {}

  public static String normalize(String s) {
    String n = Normalizer.normalize(s, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
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

  /** A 64-bit fingerprint of the normalised text (first 8 bytes of its SHA-256). */
  public static long fingerprint(String normalized) {
    byte[] d = dev.securetag.core.Hashing.sha256().digest(normalized.getBytes(StandardCharsets.UTF_8));
    long h = 0;
    for (int i = 0; i < 8; i++) {
      h = (h << 8) | (d[i] & 0xff);
    }
    return h;
  }
}

package dev.securetag.dataset.internal;

/** 64-bit hash mixing (the SplitMix64 finaliser) and a string hash built on it. */
public final class Mix {
  private Mix() {}

  public static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** A well-mixed 64-bit hash of {@code s[from, to)} (FNV-1a over chars, then mixed). */
  public static long hash(CharSequence s, int from, int to) {
    long h = 0xcbf29ce484222325L;
    for (int i = from; i < to; i++) {
      h ^= s.charAt(i);
      h *= 0x100000001b3L;
    }
    return mix64(h);
  }
}

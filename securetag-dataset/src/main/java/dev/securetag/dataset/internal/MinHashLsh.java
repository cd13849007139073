package dev.securetag.dataset.internal;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * MinHash signatures over word n-gram shingles and a banded LSH index of the signatures kept so far. A new item is a
 * near-duplicate when some kept item shares a band with it (the candidate step) and their signatures agree in at
 * least {@code threshold} of the slots (the estimated Jaccard similarity). Signatures are stored flat in one int
 * array (4 bytes per permutation per kept item) and bands in primitive maps, so a million items fit in about 1 GB.
 */
public final class MinHashLsh {
  private final int perms;
  private final int bands;
  private final int rows;
  private final int shingleSize;
  private final double threshold;
  private final int[] seeds;
  private final LongIntMap[] bandHeads;
  private int[] entryItem = new int[1024];
  private int[] entryNext = new int[1024];
  private int entries;
  private int[] signatures;
  private int items;

  public MinHashLsh(int perms, int bands, int shingleSize, double threshold, long seed) {
    if (perms % bands != 0) {
      throw new IllegalArgumentException("bands " + bands + " must divide permutations " + perms);
    }
    this.perms = perms;
    this.bands = bands;
    this.rows = perms / bands;
    this.shingleSize = shingleSize;
    this.threshold = threshold;
    SplittableRandom rnd = new SplittableRandom(seed);
    seeds = new int[perms];
    for (int i = 0; i < perms; i++) {
      seeds[i] = rnd.nextInt();
    }
    bandHeads = new LongIntMap[bands];
    for (int i = 0; i < bands; i++) {
      bandHeads[i] = new LongIntMap(1024);
    }
    signatures = new int[perms * 64];
  }

  /**
   * The band count whose S-curve finds a pair at {@code threshold} with probability >= 0.99 using the most rows
   * per band (fewest false candidates): for 128 permutations and 0.9 this is 16 bands of 8 rows (midpoint ~0.71).
   */
  public static int defaultBands(int perms, double threshold) {
    int best = perms;
    for (int r = 1; r <= perms; r++) {
      if (perms % r != 0) {
        continue;
      }
      int bandCount = perms / r;
      double p = 1 - Math.pow(1 - Math.pow(threshold, r), bandCount);
      if (p >= 0.99) {
        best = bandCount;
      }
    }
    return best;
  }

  /** The signature of already-normalised text (lower case, single spaces). */
  public int[] signature(String text) {
    int[] sig = new int[perms];
    Arrays.fill(sig, Integer.MAX_VALUE);
    int[] starts = new int[64];
    int[] ends = new int[64];
    int n = 0;
    int i = 0;
    int len = text.length();
    while (i < len) {
      while (i < len && !Character.isLetterOrDigit(text.charAt(i))) {
        i++;
      }
      int s = i;
      while (i < len && Character.isLetterOrDigit(text.charAt(i))) {
        i++;
      }
      if (s < i) {
        if (n == starts.length) {
          starts = Arrays.copyOf(starts, n * 2);
          ends = Arrays.copyOf(ends, n * 2);
        }
        starts[n] = s;
        ends[n] = i;
        n++;
      }
    }
    if (n == 0) {
      return sig;
    }
    int k = Math.min(shingleSize, n);
    int[] seedArr = seeds;
    for (int w = 0; w + k <= n; w++) {
      long h64 = Mix.hash(text, starts[w], ends[w + k - 1]);
      int x = (int) (h64 ^ (h64 >>> 32));
      // One murmur3 finaliser per permutation, keyed by a per-slot seed: plain int arithmetic with a min, which the
      // JIT vectorises across slots.
      for (int p = 0; p < sig.length; p++) {
        int v = x ^ seedArr[p];
        v = (v ^ (v >>> 16)) * 0x85ebca6b;
        v = (v ^ (v >>> 13)) * 0xc2b2ae35;
        v ^= v >>> 16;
        sig[p] = Math.min(sig[p], v);
      }
    }
    return sig;
  }

  /** True when a kept item is estimated at least {@code threshold} similar to {@code sig}. */
  public boolean isNearDuplicate(int[] sig) {
    int need = (int) Math.ceil(threshold * perms - 1e-9);
    int lastChecked = -1;
    for (int band = 0; band < bands; band++) {
      int e = bandHeads[band].get(bandKey(sig, band));
      while (e >= 0) {
        int item = entryItem[e];
        if (item != lastChecked) {
          lastChecked = item;
          if (agreement(sig, item) >= need) {
            return true;
          }
        }
        e = entryNext[e];
      }
    }
    return false;
  }

  /** Adds {@code sig} to the index as a kept item. */
  public void add(int[] sig) {
    int id = items++;
    if ((long) items * perms > signatures.length) {
      long cap = Math.max((long) items * perms, (long) signatures.length * 2);
      if (cap > Integer.MAX_VALUE - 8) {
        throw new IllegalStateException("too many items for the in-memory MinHash index: " + items);
      }
      signatures = Arrays.copyOf(signatures, (int) cap);
    }
    System.arraycopy(sig, 0, signatures, id * perms, perms);
    for (int band = 0; band < bands; band++) {
      if (entries == entryItem.length) {
        entryItem = Arrays.copyOf(entryItem, entries * 2);
        entryNext = Arrays.copyOf(entryNext, entries * 2);
      }
      int e = entries++;
      entryItem[e] = id;
      entryNext[e] = bandHeads[band].put(bandKey(sig, band), e);
    }
  }

  public int size() {
    return items;
  }

  /** Estimated Jaccard similarity of two signatures. */
  public static double similarity(int[] x, int[] y) {
    int eq = 0;
    for (int i = 0; i < x.length; i++) {
      if (x[i] == y[i]) {
        eq++;
      }
    }
    return (double) eq / x.length;
  }

  private int agreement(int[] sig, int item) {
    int base = item * perms;
    int eq = 0;
    for (int i = 0; i < perms; i++) {
      if (signatures[base + i] == sig[i]) {
        eq++;
      }
    }
    return eq;
  }

  private long bandKey(int[] sig, int band) {
    long h = band * 0x9E3779B97F4A7C15L;
    int from = band * rows;
    for (int i = from; i < from + rows; i++) {
      h = Mix.mix64(h ^ (sig[i] & 0xffffffffL));
    }
    return h;
  }
}

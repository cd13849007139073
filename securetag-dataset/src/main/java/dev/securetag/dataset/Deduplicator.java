package dev.securetag.dataset;

import dev.securetag.core.TrainingExample;
import dev.securetag.dataset.internal.LongHashSet;
import dev.securetag.dataset.internal.MinHashLsh;
import dev.securetag.dataset.internal.TextNormalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Removes duplicate training examples: exact duplicates by a fingerprint of the NFKC-normalised, lower-cased,
 * whitespace-collapsed instruction, input and output; near duplicates by MinHash over word 5-gram shingles with
 * banded LSH (128 permutations and Jaccard 0.9 by default, as in distilabel's {@code MinHashDedup}). The first
 * occurrence is kept. Memory is about 8 bytes per example for exact dedupe and about 1 KB per kept example for
 * near-duplicate dedupe.
 */
public final class Deduplicator {
  /** distilabel's defaults. */
  public static final int DEFAULT_PERMUTATIONS = 128;

  public static final double DEFAULT_THRESHOLD = 0.9;

  private final boolean exact;
  private final boolean near;
  private final int permutations;
  private final int bands;
  private final int shingleSize;
  private final double threshold;
  private final long seed;

  /** Verdict on one example offered to a {@link Session}. */
  public enum Verdict {
    KEEP,
    EXACT_DUPLICATE,
    NEAR_DUPLICATE
  }

  /** The examples kept, in input order, and how many of each kind were removed. */
  public record Result(List<TrainingExample> kept, int exactDuplicates, int nearDuplicates) {
    public Result {
      kept = List.copyOf(kept);
    }
  }

  private Deduplicator(Builder b) {
    this.exact = b.exact;
    this.near = b.near;
    this.permutations = b.permutations;
    this.threshold = b.threshold;
    this.bands = b.bands > 0 ? b.bands : MinHashLsh.defaultBands(b.permutations, b.threshold);
    this.shingleSize = b.shingleSize;
    this.seed = b.seed;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Exact and near-duplicate removal with the defaults. */
  public static Deduplicator defaults() {
    return builder().build();
  }

  /** Removes duplicates from {@code examples}. */
  public Result dedupe(List<TrainingExample> examples) {
    Session s = newSession();
    List<TrainingExample> kept = new ArrayList<>();
    for (TrainingExample e : examples) {
      if (s.offer(e) == Verdict.KEEP) {
        kept.add(e);
      }
    }
    return new Result(kept, s.exactDuplicates(), s.nearDuplicates());
  }

  /** A stateful pass for streaming use (one per dataset; not thread-safe). */
  public Session newSession() {
    return new Session();
  }

  public int bands() {
    return bands;
  }

  @Override
  public String toString() {
    return "Deduplicator[exact=" + exact + ", near=" + near + ", permutations=" + permutations + ", bands=" + bands
        + ", threshold=" + threshold + ", shingle=" + shingleSize + "]";
  }

  /** Remembers what was kept so far and judges each new example against it. */
  public final class Session {
    private final LongHashSet seen = new LongHashSet(1024);
    private final MinHashLsh lsh = near ? new MinHashLsh(permutations, bands, shingleSize, threshold, seed) : null;
    private int exactDuplicates;
    private int nearDuplicates;

    private Session() {}

    /** Judges {@code e}; a kept example is remembered. */
    public Verdict offer(TrainingExample e) {
      return offer(e.instruction() + "\n" + e.input() + "\n" + e.output());
    }

    /** Judges a text (already the concatenation of what makes two examples the same). */
    public Verdict offer(String text) {
      String norm = TextNormalizer.normalize(text);
      if (exact && !seen.add(TextNormalizer.fingerprint(norm))) {
        exactDuplicates++;
        return Verdict.EXACT_DUPLICATE;
      }
      if (lsh != null) {
        int[] sig = lsh.signature(norm);
        if (lsh.isNearDuplicate(sig)) {
          nearDuplicates++;
          return Verdict.NEAR_DUPLICATE;
        }
        lsh.add(sig);
      }
      return Verdict.KEEP;
    }

    public int exactDuplicates() {
      return exactDuplicates;
    }

    public int nearDuplicates() {
      return nearDuplicates;
    }
  }

  /** Configures a {@link Deduplicator}. */
  public static final class Builder {
    private boolean exact = true;
    private boolean near = true;
    private int permutations = DEFAULT_PERMUTATIONS;
    private int bands;
    private int shingleSize = 5;
    private double threshold = DEFAULT_THRESHOLD;
    private long seed = 1;

    private Builder() {}

    public Builder exact(boolean exact) {
      this.exact = exact;
      return this;
    }

    public Builder nearDuplicates(boolean near) {
      this.near = near;
      return this;
    }

    public Builder permutations(int permutations) {
      this.permutations = permutations;
      return this;
    }

    /** LSH bands; must divide the permutations. Default: chosen from the threshold (16 for 128 and 0.9). */
    public Builder bands(int bands) {
      this.bands = bands;
      return this;
    }

    /** Words per shingle (default 5); texts shorter than this form one shingle. */
    public Builder shingleSize(int shingleSize) {
      this.shingleSize = shingleSize;
      return this;
    }

    /** Estimated Jaccard similarity at or above which an example is a near duplicate (default 0.9). */
    public Builder threshold(double threshold) {
      this.threshold = threshold;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public Deduplicator build() {
      if (permutations < 8 || permutations > 1024) {
        throw new IllegalArgumentException("permutations must be in [8, 1024], was " + permutations);
      }
      if (!(threshold > 0 && threshold <= 1)) {
        throw new IllegalArgumentException("threshold must be in (0, 1], was " + threshold);
      }
      if (bands < 0 || (bands > 0 && permutations % bands != 0)) {
        throw new IllegalArgumentException("bands " + bands + " must divide permutations " + permutations);
      }
      if (shingleSize < 1) {
        throw new IllegalArgumentException("shingleSize must be >= 1, was " + shingleSize);
      }
      return new Deduplicator(this);
    }
  }
}

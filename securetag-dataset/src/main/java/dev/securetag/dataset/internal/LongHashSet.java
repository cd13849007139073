package dev.securetag.dataset.internal;

/** A set of longs (exact-duplicate fingerprints) without boxing. */
public final class LongHashSet {
  private final LongIntMap map;

  public LongHashSet(int expected) {
    map = new LongIntMap(expected);
  }

  /** Adds {@code key}; false when it was already present. */
  public boolean add(long key) {
    return map.put(key, 0) < 0;
  }

  public int size() {
    return map.size();
  }
}

package dev.securetag.dataset.internal;

import java.util.Arrays;

/** Open-addressing map from long keys to non-negative ints; boxed maps would need ~80 bytes per entry at 1M+ items. */
public final class LongIntMap {
  private long[] keys;
  private int[] values;
  private int size;
  private int mask;

  public LongIntMap(int expected) {
    int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
    keys = new long[cap];
    values = new int[cap];
    Arrays.fill(values, -1);
    mask = cap - 1;
  }

  /** The value for {@code key}, or -1. */
  public int get(long key) {
    int i = slot(key);
    while (values[i] >= 0) {
      if (keys[i] == key) {
        return values[i];
      }
      i = (i + 1) & mask;
    }
    return -1;
  }

  /** Associates {@code value} (>= 0) with {@code key}, returning the previous value or -1. */
  public int put(long key, int value) {
    if (value < 0) {
      throw new IllegalArgumentException("values must be >= 0");
    }
    if ((size + 1) * 2 > keys.length) {
      grow();
    }
    int i = slot(key);
    while (values[i] >= 0) {
      if (keys[i] == key) {
        int old = values[i];
        values[i] = value;
        return old;
      }
      i = (i + 1) & mask;
    }
    keys[i] = key;
    values[i] = value;
    size++;
    return -1;
  }

  public int size() {
    return size;
  }

  private int slot(long key) {
    return (int) (Mix.mix64(key) & mask);
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldValues = values;
    keys = new long[oldKeys.length * 2];
    values = new int[oldValues.length * 2];
    Arrays.fill(values, -1);
    mask = keys.length - 1;
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldValues[i] >= 0) {
        put(oldKeys[i], oldValues[i]);
      }
    }
  }
}

package dev.securetag.dataset;

import dev.securetag.core.TrainingExample;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A printable summary of a dataset: examples per split, token-length histogram per split (instruction + input +
 * output, counted with the model's tokenizer or the estimate), and examples per source document.
 *
 * <pre>{@code
 * System.out.println(DatasetStats.of(result.splits(), counter));
 * }</pre>
 */
public final class DatasetStats {
  /** Upper bounds (exclusive) of the histogram buckets; the last bucket is open-ended. */
  private static final int[] BUCKETS = {64, 128, 256, 512, 1024, 2048};

  private final Map<String, SplitStats> splits;
  private final Map<String, Integer> perSource;
  private final boolean exactTokens;

  /** Figures for one split. */
  public record SplitStats(int count, long totalTokens, int minTokens, int medianTokens, int maxTokens,
      int[] histogram) {
    /** Mean tokens per example, 0 when empty. */
    public double meanTokens() {
      return count == 0 ? 0 : (double) totalTokens / count;
    }
  }

  private DatasetStats(Map<String, SplitStats> splits, Map<String, Integer> perSource, boolean exactTokens) {
    this.splits = Collections.unmodifiableMap(splits);
    this.perSource = Collections.unmodifiableMap(perSource);
    this.exactTokens = exactTokens;
  }

  /** Computes the summary of named splits (e.g. {@link JsonlWriter.Result#splits()}). */
  public static DatasetStats of(Map<String, ? extends List<TrainingExample>> splits, TokenCounter counter) {
    Map<String, SplitStats> out = new LinkedHashMap<>();
    Map<String, Integer> perSource = new TreeMap<>();
    for (Map.Entry<String, ? extends List<TrainingExample>> e : splits.entrySet()) {
      List<Integer> lengths = new ArrayList<>();
      int[] hist = new int[BUCKETS.length + 1];
      long total = 0;
      for (TrainingExample ex : e.getValue()) {
        int t = counter.count(ex.instruction()) + counter.count(ex.input()) + counter.count(ex.output());
        lengths.add(t);
        total += t;
        hist[bucket(t)]++;
        Object src = ex.metadata().get("source");
        perSource.merge(src == null ? "(unknown)" : String.valueOf(src), 1, Integer::sum);
      }
      Collections.sort(lengths);
      int n = lengths.size();
      out.put(e.getKey(), new SplitStats(n, total, n == 0 ? 0 : lengths.get(0), n == 0 ? 0 : lengths.get(n / 2),
          n == 0 ? 0 : lengths.get(n - 1), hist));
    }
    return new DatasetStats(out, perSource, counter.exact());
  }

  /** Summary of a single list of examples, reported as split "all". */
  public static DatasetStats of(List<TrainingExample> examples, TokenCounter counter) {
    return of(Map.of("all", examples), counter);
  }

  private static int bucket(int tokens) {
    for (int i = 0; i < BUCKETS.length; i++) {
      if (tokens < BUCKETS[i]) {
        return i;
      }
    }
    return BUCKETS.length;
  }

  /** Examples over all splits. */
  public int total() {
    return splits.values().stream().mapToInt(SplitStats::count).sum();
  }

  public Map<String, SplitStats> splits() {
    return splits;
  }

  /** Examples per source document over all splits, sorted by name. */
  public Map<String, Integer> perSource() {
    return perSource;
  }

  /** True when token lengths come from a real tokenizer rather than the estimate. */
  public boolean exactTokens() {
    return exactTokens;
  }

  /** The summary as a small text report. */
  public String format() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "Dataset: %d examples (token lengths %s)%n", total(),
        exactTokens ? "from the tokenizer" : "estimated"));
    for (Map.Entry<String, SplitStats> e : splits.entrySet()) {
      SplitStats s = e.getValue();
      sb.append(String.format(Locale.ROOT, "  %-10s %7d examples  tokens min %d / median %d / mean %.1f / max %d%n",
          e.getKey(), s.count(), s.minTokens(), s.medianTokens(), s.meanTokens(), s.maxTokens()));
      int lo = 0;
      for (int i = 0; i <= BUCKETS.length; i++) {
        String range = i < BUCKETS.length ? lo + "-" + (BUCKETS[i] - 1) : ">=" + lo;
        int count = s.histogram()[i];
        int bar = s.count() == 0 ? 0 : (int) Math.round(40.0 * count / s.count());
        sb.append(String.format(Locale.ROOT, "    %-10s %7d %s%n", range, count, "#".repeat(bar)));
        if (i < BUCKETS.length) {
          lo = BUCKETS[i];
        }
      }
    }
    sb.append("  per source:\n");
    for (Map.Entry<String, Integer> e : perSource.entrySet()) {
      sb.append(String.format(Locale.ROOT, "    %-40s %7d%n", e.getKey(), e.getValue()));
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return format();
  }
}

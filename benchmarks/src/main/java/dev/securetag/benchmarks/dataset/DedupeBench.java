package dev.securetag.benchmarks.dataset;

import dev.securetag.core.TrainingExample;
import dev.securetag.dataset.Deduplicator;
import java.util.List;
import java.util.Locale;

/** Exact + MinHash/LSH dedupe (128 permutations, Jaccard 0.9) over N examples, 10% duplicates. Args: [examples]. */
public final class DedupeBench {
  private DedupeBench() {}

  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    long t0 = System.nanoTime();
    List<TrainingExample> ex = BenchText.examples(n, 0.10, 3);
    System.out.printf(Locale.ROOT, "generated %d examples in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);
    Runtime rt = Runtime.getRuntime();
    for (boolean near : new boolean[] {false, true}) {
      Deduplicator d = Deduplicator.builder().nearDuplicates(near).build();
      System.gc();
      long before = rt.totalMemory() - rt.freeMemory();
      long t = System.nanoTime();
      Deduplicator.Result r = d.dedupe(ex);
      double s = (System.nanoTime() - t) / 1e9;
      long after = rt.totalMemory() - rt.freeMemory();
      System.out.printf(Locale.ROOT, "%s: %d examples in %.2f s (%.0f/s), kept %d, exact %d, near %d,"
          + " heap growth ~%d MB%n", near ? "exact+near (128 perms, 16x8 bands, J>=0.9)" : "exact only", n, s,
          n / s, r.kept().size(), r.exactDuplicates(), r.nearDuplicates(), (after - before) >> 20);
    }
  }
}

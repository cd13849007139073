package dev.securetag.benchmarks.dataset;

import dev.securetag.core.TrainingExample;
import dev.securetag.dataset.DatasetFormat;
import dev.securetag.dataset.JsonlWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** JsonlWriter MB/s per format (no dedupe, no split), then the full write with dedupe + split. Args: [examples]. */
public final class JsonlWriterBench {
  private JsonlWriterBench() {}

  public static void main(String[] args) throws IOException {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    List<TrainingExample> ex = BenchText.examples(n, 0.0, 2);
    Path dir = Files.createTempDirectory("jsonl-bench");
    try {
      for (DatasetFormat f : DatasetFormat.values()) {
        JsonlWriter w = JsonlWriter.builder().format(f).validationRatio(0).dedupe(null).build();
        Path file = dir.resolve(f + ".jsonl");
        long[] bytes = new long[1];
        long ns = ChunkerBench.bestOf(3, () -> bytes[0] = w.writeFile(ex, file));
        System.out.printf(Locale.ROOT, "%-11s %d examples, %.1f MB in %.3f s: %.1f MB/s%n", f, n, bytes[0] / 1e6,
            ns / 1e9, bytes[0] / 1e6 / (ns / 1e9));
      }
      JsonlWriter full = JsonlWriter.builder().validationRatio(0.1).build();
      long t = System.nanoTime();
      JsonlWriter.Result r = full.write(ex, dir.resolve("split"));
      double s = (System.nanoTime() - t) / 1e9;
      System.out.printf(Locale.ROOT, "write() with exact+MinHash dedupe and split: %d in, %d written, %.1f MB in"
          + " %.2f s: %.1f MB/s%n", n, r.written(), r.bytes() / 1e6, s, r.bytes() / 1e6 / s);
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}

package dev.securetag.benchmarks.dataset;

import dev.securetag.core.Chunk;
import dev.securetag.core.TextBlock;
import dev.securetag.dataset.Chunker;
import dev.securetag.dataset.TokenCounter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Chunker throughput with a real tokenizer.json: input tokens per second, 512/50 defaults.
 * Args: [tokenizer.json] [megabytes of text, default 1]. One warm-up pass, then the best of one timed pass.
 */
public final class ChunkerBench {
  private ChunkerBench() {}

  public static void main(String[] args) {
    Path tok = Path.of(args.length > 0 ? args[0]
        : "../securetag-test-fixtures/src/main/resources/securetag-fixtures/tiny-llama/hf/tokenizer.json");
    double mb = args.length > 1 ? Double.parseDouble(args[1]) : 1.0;
    List<TextBlock> blocks = BenchText.blocks((long) (mb * 1_000_000), 1);
    try (TokenCounter counter = TokenCounter.huggingFace(tok)) {
      long inputTokens = 0;
      long chars = 0;
      for (TextBlock b : blocks) {
        inputTokens += counter.count(b.text());
        chars += b.text().length();
      }
      System.out.printf(Locale.ROOT, "input: %d blocks, %d chars, %d tokens (%s)%n", blocks.size(), chars,
          inputTokens, counter.name());
      long baseline = bestOf(1, () -> {
        for (TextBlock b : blocks) {
          counter.count(b.text());
        }
      });
      System.out.printf(Locale.ROOT, "tokenizer alone (count every block once): %.0f tokens/s%n",
          inputTokens / (baseline / 1e9));
      for (int[] cfg : new int[][] {{512, 50}, {1024, 100}}) {
        try (Chunker chunker = Chunker.builder().tokenCounter(counter).maxTokens(cfg[0]).overlapTokens(cfg[1])
            .build()) {
          int[] n = new int[1];
          long ns = bestOf(1, () -> {
            List<Chunk> chunks = chunker.chunk(blocks);
            n[0] = chunks.size();
          });
          System.out.printf(Locale.ROOT, "chunker max=%d overlap=%d: %d chunks, %.0f input tokens/s (%.2f s)%n",
              cfg[0], cfg[1], n[0], inputTokens / (ns / 1e9), ns / 1e9);
        }
      }
    }
  }

  static long bestOf(int runs, Runnable r) {
    r.run();
    long best = Long.MAX_VALUE;
    for (int i = 0; i < runs; i++) {
      long t = System.nanoTime();
      r.run();
      best = Math.min(best, System.nanoTime() - t);
    }
    return best;
  }
}

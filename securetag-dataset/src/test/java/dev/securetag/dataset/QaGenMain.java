package dev.securetag.dataset;

import java.nio.file.Path;

/** Child-JVM entry point for the kill-and-resume test: generates for chunks 0..n-1 against args[0]. */
public final class QaGenMain {
  private QaGenMain() {}

  public static void main(String[] args) {
    int n = Integer.parseInt(args[2]);
    try (QaGenerator gen = QaGenerator.builder().llm(new OllamaTestClient(args[0], "fake-7b", false))
        .concurrency(2).cache(Path.of(args[1])).build()) {
      GenerationResult r = gen.generate(TestChunks.english(0, n));
      System.out.println("PAIRS " + r.pairs().size());
    }
  }
}

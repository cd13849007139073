package dev.securetag.dataset;

import java.nio.file.Path;

/** Child-JVM entry point: merges args[0] into args[1] and prints the report. */
public final class MergeMain {
  private MergeMain() {}

  public static void main(String[] args) {
    DatasetMerger.Report r = DatasetMerger.builder().input(Path.of(args[0])).build().merge(Path.of(args[1]));
    System.out.println("WRITTEN " + r.written() + " MALFORMED " + r.malformed());
  }
}

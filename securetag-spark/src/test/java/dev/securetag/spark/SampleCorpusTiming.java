package dev.securetag.spark;

import dev.securetag.core.TextBlock;
import dev.securetag.dataset.DatasetPipeline;
import dev.securetag.pdf.OcrMode;
import dev.securetag.pdf.PdfCorpus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * Wall time of the corpus stage on a directory of PDFs: the single-machine path (PdfCorpus + DatasetPipeline, 2
 * threads) against SparkPipeline on local[2], each run {@code rounds} times after one warm-up, in one JVM. Not a unit
 * test: run it by hand (see securetag-spark/README.md) with the test classpath.
 */
public final class SampleCorpusTiming {
  public static void main(String[] args) throws Exception {
    Path corpus = Path.of(args[0]);
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    Path out = Files.createTempDirectory("securetag-timing");
    SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
    try {
      for (int r = -1; r < rounds; r++) {
        long t0 = System.nanoTime();
        List<TextBlock> blocks = new ArrayList<>();
        try (PdfCorpus pdf = PdfCorpus.builder().add(corpus).ocr(OcrMode.AUTO).languages("spa", "eng").threads(2)
            .build()) {
          pdf.forEach(blocks::add);
        }
        DatasetPipeline.Result local = DatasetPipeline.builder().outputDir(out.resolve("local")).build().run(blocks);
        long t1 = System.nanoTime();
        SparkPipeline.Result dist = SparkPipeline.builder().input(corpus.toString()).output(out.resolve("spark"))
            .partitions(2).build().run(spark);
        long t2 = System.nanoTime();
        boolean same = Files.readString(local.files().trainFile()).equals(Files.readString(dist.files().trainFile()))
            && Files.readString(local.files().validationFile()).equals(Files.readString(dist.files().validationFile()));
        System.out.printf("%s single-machine %6.0f ms   spark local[2] %6.0f ms   pairs %d/%d identical=%s%n",
            r < 0 ? "warm-up" : "round " + r, (t1 - t0) / 1e6, (t2 - t1) / 1e6, local.files().written(),
            dist.files().written(), same);
      }
    } finally {
      spark.stop();
    }
  }
}

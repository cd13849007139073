package dev.securetag.benchmarks.pdf;

import dev.securetag.pdf.CorpusReport;
import dev.securetag.pdf.OcrMode;
import dev.securetag.pdf.PdfCorpus;
import dev.securetag.testing.PdfLayoutWriter;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Pages per second of {@link PdfCorpus} (text, headings, section paths, tables; OCR mode AUTO on a born-digital
 * file, so no page is OCR'd) on a synthetic 300-page standard, with 1 and 2 threads in a warm JVM, against poppler's
 * {@code pdftotext} on the same files when it is installed.
 *
 * <p>Args: {@code [pages=300] [copies=4] [rounds=3] [workDir=target/pdf-bench]}; {@code ocr ...} and
 * {@code real DIR ...} run the OCR throughput bench ({@link #ocrBench}) and the real-PDF set bench
 * ({@link #realBench}) instead. The corpus is {@code copies} copies
 * of the document (threads work across files); a single copy is also timed, where the threads split the document
 * into page ranges.
 */
public final class PdfCorpusBench {

  private PdfCorpusBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("ocr")) {
      ocrBench(args);
      return;
    }
    if (args.length > 0 && args[0].equals("real")) {
      realBench(args);
      return;
    }
    int pages = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    int copies = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    Path work = Path.of(args.length > 3 ? args[3] : "target/pdf-bench");
    Files.createDirectories(work);
    Path doc = work.resolve("standard-0.pdf");
    long t0 = System.nanoTime();
    int actual = writeStandard(doc, pages);
    System.out.printf(Locale.ROOT, "generated %s: %d pages, %.1f MB in %.1f s%n", doc, actual,
        Files.size(doc) / 1e6, (System.nanoTime() - t0) / 1e9);
    List<Path> files = new ArrayList<>();
    files.add(doc);
    for (int i = 1; i < copies; i++) {
      Path c = work.resolve("standard-" + i + ".pdf");
      Files.copy(doc, c, StandardCopyOption.REPLACE_EXISTING);
      files.add(c);
    }
    int totalPages = actual * copies;

    CorpusReport sample = run(files.subList(0, 1), 1);
    System.out.printf(Locale.ROOT, "one document: %d pages, %d blocks, %d tables, %d OCR pages, %d errors%n",
        sample.pages(), sample.blocks(), sample.tables(), sample.ocrPages(), sample.failures().size());
    System.out.println("warming up (2 rounds, 2 threads) ...");
    for (int i = 0; i < 2; i++) {
      run(files, 2);
    }
    boolean haveRef = pdftotextInstalled();
    if (!haveRef) {
      System.out.println("pdftotext not installed: no reference timing");
    }
    // The machine is shared and its load changes from minute to minute, so every round times the reference and
    // PdfCorpus back to back and the ratio is taken per round.
    List<double[]> rows = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      double ref1 = haveRef ? pdftotext(files, 1, totalPages) : Double.NaN;
      double p1 = timed(files, 1, totalPages);
      double p2 = timed(files, 2, totalPages);
      double single2 = timed(files.subList(0, 1), 2, actual);
      double ref2 = haveRef ? pdftotext(files, 2, totalPages) : Double.NaN;
      rows.add(new double[] {p1, p2, single2, ref1, ref2});
      System.out.printf(Locale.ROOT, "round %d: PdfCorpus 1 thread %.0f, 2 threads %.0f, one file 2 threads %.0f | "
          + "pdftotext 1 process %.0f, 2 processes %.0f pages/s | ratio 2 threads / pdftotext(1) %.2f%n",
          r + 1, p1, p2, single2, ref1, ref2, p2 / ref1);
    }
    double[] med = new double[5];
    for (int c = 0; c < 5; c++) {
      List<Double> col = new ArrayList<>();
      for (double[] row : rows) {
        col.add(row[c]);
      }
      col.sort(null);
      med[c] = col.get(col.size() / 2);
    }
    List<Double> ratios = new ArrayList<>();
    for (double[] row : rows) {
      ratios.add(row[1] / row[3]);
    }
    ratios.sort(null);
    System.out.printf(Locale.ROOT, "median of %d rounds (%d pages/round): PdfCorpus 1 thread %.0f, 2 threads %.0f, "
        + "one file split over 2 threads %.0f pages/s; pdftotext 1 process %.0f, 2 processes %.0f pages/s%n",
        rounds, totalPages, med[0], med[1], med[2], med[3], med[4]);
    System.out.printf(Locale.ROOT, "median ratio PdfCorpus(2 threads) / pdftotext(1 process) = %.2f%n",
        ratios.get(ratios.size() / 2));
    System.out.printf(Locale.ROOT, "peak heap used: %.0f MB (max heap %.0f MB)%n", peakHeapMb(),
        Runtime.getRuntime().maxMemory() / 1e6);
  }

  private static CorpusReport run(List<Path> files, int threads) {
    try (PdfCorpus c = PdfCorpus.builder().addAll(files).ocr(OcrMode.AUTO).threads(threads).build()) {
      long[] n = {0};
      CorpusReport r = c.forEach(b -> n[0] += b.text().length());
      if (n[0] == 0 || !r.failures().isEmpty()) {
        throw new IllegalStateException("benchmark run produced no text: " + r.summary());
      }
      return r;
    }
  }

  private static double timed(List<Path> files, int threads, int totalPages) {
    long t = System.nanoTime();
    run(files, threads);
    return totalPages / ((System.nanoTime() - t) / 1e9);
  }

  private static double peakHeapMb() {
    long sum = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        sum += p.getPeakUsage().getUsed();
      }
    }
    return sum / 1e6;
  }

  private static boolean pdftotextInstalled() {
    try {
      Process p = new ProcessBuilder("pdftotext", "-v").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs one pdftotext process per file, {@code parallel} at a time, output discarded. */
  private static double pdftotext(List<Path> files, int parallel, int totalPages) throws Exception {
    long t = System.nanoTime();
    List<Process> running = new ArrayList<>();
    for (Path f : files) {
      if (running.size() >= parallel) {
        waitFor(running.remove(0));
      }
      running.add(new ProcessBuilder("pdftotext", "-q", f.toString(), "-")
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start());
    }
    for (Process p : running) {
      waitFor(p);
    }
    return totalPages / ((System.nanoTime() - t) / 1e9);
  }

  private static void waitFor(Process p) throws InterruptedException {
    if (p.waitFor() != 0) {
      throw new IllegalStateException("pdftotext failed with exit code " + p.exitValue());
    }
  }

  /**
   * OCR throughput: a corpus whose first document has {@code scanPages} scanned pages (rendered text, no text layer)
   * followed by two short text documents, extracted with OcrMode.AUTO and 1 and 2 threads. Reports OCR pages/s (OCR'd
   * pages per second of wall time) and the speed-up from the second thread: with per-page OCR scheduling both threads
   * work on the scanned document. Args: {@code ocr [scanPages=8] [rounds=2] [workDir=target/pdf-bench-ocr]}.
   */
  static void ocrBench(String[] args) throws Exception {
    int scanPages = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    Path work = Path.of(args.length > 3 ? args[3] : "target/pdf-bench-ocr");
    Files.createDirectories(work);
    List<String> text = List.of(
        "Incident response procedures shall be documented, tested at least annually and updated after every major",
        "security incident affecting customer data. The security team reviews audit logs daily and escalates",
        "suspicious events to the incident manager, who decides within one hour whether an incident is declared.",
        "Evidence is preserved before systems are restored: memory images, disk images and the relevant logs are",
        "copied to write-once storage and their hashes are recorded in the incident ticket.");
    Path scan = work.resolve("a-scan.pdf");
    try (PdfLayoutWriter w = PdfLayoutWriter.standard14()) {
      for (int p = 0; p < scanPages; p++) {
        List<String> lines = new ArrayList<>();
        lines.add((p + 1) + " Incident response, part " + (p + 1));
        for (int k = 0; k < 6; k++) {
          lines.addAll(text);
        }
        w.imagePage(PdfLayoutWriter.renderScan(lines, 11f), List.of());
      }
      w.save(scan);
    }
    writeStandard(work.resolve("b-text.pdf"), 4);
    writeStandard(work.resolve("c-text.pdf"), 4);
    List<Path> files = List.of(scan, work.resolve("b-text.pdf"), work.resolve("c-text.pdf"));
    CorpusReport warm = run(files, 2);
    System.out.printf(Locale.ROOT, "corpus: %d documents, %d pages, %d OCR pages, %d page issues%n",
        warm.documents().size(), warm.pages(), warm.ocrPages(),
        warm.documents().stream().mapToInt(d -> d.pageIssues().size()).sum());
    if (warm.ocrPages() == 0) {
      System.out.println("no page was OCR'd (Tesseract missing?): " + warm.summary());
      return;
    }
    for (int r = 0; r < rounds; r++) {
      long t = System.nanoTime();
      long c = cpuNanos();
      CorpusReport one = run(files, 1);
      double s1 = (System.nanoTime() - t) / 1e9;
      double cpu1 = (cpuNanos() - c) / 1e9;
      t = System.nanoTime();
      c = cpuNanos();
      CorpusReport two = run(files, 2);
      double s2 = (System.nanoTime() - t) / 1e9;
      double cpu2 = (cpuNanos() - c) / 1e9;
      // CPU seconds per wall second: how many threads actually worked, whatever else the machine was doing.
      System.out.printf(Locale.ROOT, "round %d: 1 thread %.1f s (%.2f OCR pages/s, busy threads %.2f), 2 threads %.1f s "
          + "(%.2f OCR pages/s, busy threads %.2f), speed-up %.2fx%n", r + 1, s1, one.ocrPages() / s1, cpu1 / s1, s2,
          two.ocrPages() / s2, cpu2 / s2, s1 / s2);
    }
  }

  /**
   * The real-PDF test set (securetag-pdf/src/test/resources/realpdf): pages/s with OcrMode.OFF and AUTO against
   * pdftotext, one thread and one process, files in turn. Args: {@code real DIR [rounds=3]}.
   */
  static void realBench(String[] args) throws Exception {
    Path dir = Path.of(args[1]);
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    List<Path> files;
    try (var s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".pdf")).sorted().toList();
    }
    CorpusReport auto = runMode(files, OcrMode.AUTO);
    int pages = auto.pages();
    System.out.printf(Locale.ROOT, "%d files, %d pages, %d OCR'd in AUTO%n", files.size(), pages, auto.ocrPages());
    runMode(files, OcrMode.OFF);
    boolean haveRef = pdftotextInstalled();
    for (int r = 0; r < rounds; r++) {
      long t = System.nanoTime();
      runMode(files, OcrMode.OFF);
      double off = pages / ((System.nanoTime() - t) / 1e9);
      t = System.nanoTime();
      runMode(files, OcrMode.AUTO);
      double au = pages / ((System.nanoTime() - t) / 1e9);
      double ref = haveRef ? pdftotext(files, 1, pages) : Double.NaN;
      System.out.printf(Locale.ROOT, "round %d: OFF %.0f pages/s, AUTO %.1f pages/s, pdftotext %.0f pages/s | "
          + "OFF/pdftotext %.2f, AUTO/pdftotext %.3f%n", r + 1, off, au, ref, off / ref, au / ref);
    }
  }

  /** CPU time of this process (all threads, native code included). */
  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static CorpusReport runMode(List<Path> files, OcrMode mode) {
    try (PdfCorpus c = PdfCorpus.builder().addAll(files).ocr(mode).threads(1).build()) {
      return c.forEach(b -> { });
    }
  }

  /** A synthetic standard: numbered clauses, paragraphs, lists, ruled control tables, a two-column annex. */
  static int writeStandard(Path target, int pages) {
    try (PdfLayoutWriter w = PdfLayoutWriter.standard14()) {
      w.header("Synthetic Information Security Standard SIS-300 - Benchmark edition");
      w.footer("Page %d of %d");
      w.heading("Synthetic Information Security Standard", 18, 0);
      int clause = 0;
      while (w.document().getNumberOfPages() < pages) {
        clause++;
        w.heading(clause + " Control family " + clause, 14, 0);
        for (int s = 1; s <= 3; s++) {
          w.heading(clause + "." + s + " Requirement group " + clause + "." + s, 12, 0);
          w.paragraph("The organization shall establish, document and maintain procedures for requirement group "
              + clause + "." + s + ", covering the identification of information assets, the assessment of risks "
              + "to their confidentiality, integrity and availability, and the selection of proportionate "
              + "safeguards. Responsibilities shall be assigned to named roles and reviewed at planned intervals.");
          w.bullet("a)", "define the scope and objectives of the controls in this group;");
          w.bullet("b)", "record evidence of operation and retain it for at least three years;");
          w.bullet("c)", "report exceptions to the risk owner within five working days.");
          w.paragraph("Implementation guidance: organizations should consider the size and complexity of their "
              + "operations, applicable legal and contractual obligations, and the results of previous audits "
              + "when deciding how to implement the controls of this group.");
        }
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("Control", "Title", "Requirement", "Owner"));
        for (int r = 1; r <= 6; r++) {
          rows.add(List.of(clause + "." + r, "Control title " + clause + "." + r,
              "The control owner shall verify that safeguard " + clause + "." + r + " operates effectively and "
                  + "record the result in the compliance register.", r % 2 == 0 ? "CISO" : "IT Operations"));
        }
        w.table(rows, new float[] {0.1f, 0.25f, 0.5f, 0.15f}, true);
        if (clause % 5 == 0) {
          w.columns(2);
          for (int k = 0; k < 6; k++) {
            w.paragraph("Annex note " + clause + "." + k + ": this two-column annex explains the rationale for the "
                + "controls above, gives examples of acceptable evidence and lists common implementation "
                + "mistakes observed during certification audits.");
          }
          w.columns(1);
        }
      }
      w.save(target);
      return w.document().getNumberOfPages();
    }
  }
}

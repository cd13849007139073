package dev.securetag.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.securetag.pdf.SampleCorpus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sample PDFs committed under examples/sample-pdfs are what {@link SampleCorpus} generates. */
class SamplePdfsTest {
  @Test
  void committedSamplePdfsMatchTheGenerator(@TempDir Path dir) throws Exception {
    List<Path> generated = SampleCorpus.writeTo(dir);
    assertThat(generated).hasSize(4);
    for (Path g : generated) {
      Path committed = Paths.get("sample-pdfs").resolve(g.getFileName());
      assertThat(committed).as("regenerate with SampleCorpus.writeTo(examples/sample-pdfs)").exists();
      if (g.getFileName().toString().startsWith("scanned")) {
        // The scanned page is a rendered image: its pixels depend on which substitute font the machine offers
        // for Helvetica, so only its presence is checked; its OCR is checked by SecuretagPipelineTest.
        assertThat(Files.size(committed)).isPositive();
        continue;
      }
      assertThat(Files.readAllBytes(committed)).as(g.getFileName().toString()).isEqualTo(Files.readAllBytes(g));
    }
  }
}

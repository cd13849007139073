package dev.securetag.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.BlockKind;
import dev.securetag.core.SourceRef;
import dev.securetag.core.Table;
import dev.securetag.core.TextBlock;
import dev.securetag.core.internal.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetPipelineTest {
  @TempDir Path dir;

  private static List<TextBlock> corpus() {
    List<TextBlock> blocks = new ArrayList<>();
    for (String doc : List.of("iso27001.pdf", "iso27002.pdf", "nist-800-53.pdf", "ens.pdf")) {
      for (int s = 1; s <= 4; s++) {
        blocks.add(TextBlock.builder().kind(BlockKind.HEADING).text(s + " Section " + s + " of " + doc).level(1)
            .source(SourceRef.of(doc, s)).build());
        blocks.add(TextBlock.of(BlockKind.PARAGRAPH, "The organization shall apply requirement " + s + " of " + doc
            + " to every information system. A risk owner is a person with the accountability to manage a risk.",
            SourceRef.of(doc, s)));
      }
      blocks.add(TextBlock.ofTable(Table.of(List.of(List.of("Control", "Description"),
          List.of("C.1", "Backups of " + doc + " data shall be tested regularly and kept off site."))),
          SourceRef.of(doc, 9)));
    }
    return blocks;
  }

  @Test
  void runsBlocksToSplitJsonlFilesOfflineWithTheRealTokenizer() throws Exception {
    DatasetPipeline.Result r = DatasetPipeline.builder().tokenizer(TestTokenizers.tinyLlama())
        .outputDir(dir.resolve("out")).build().run(corpus());
    assertThat(r.chunks()).isNotEmpty().allSatisfy(c -> assertThat(c.tokenCountExact()).isTrue());
    assertThat(r.generation().pairs()).isNotEmpty();
    JsonlWriter.Result files = r.files();
    assertThat(files.train()).isNotEmpty();
    assertThat(files.validation()).isNotEmpty();
    List<String> lines = Files.readAllLines(files.trainFile());
    assertThat(lines).hasSize(files.train().size());
    assertThat(Json.readTree(lines.get(0), "train.jsonl:1").get("metadata").has("source")).isTrue();
    assertThat(r.stats().total()).isEqualTo(files.written());
    assertThat(r.stats().exactTokens()).isTrue();
    // The repeated definition sentence appears in every section: dedupe must have removed the copies.
    assertThat(files.exactDuplicates() + files.nearDuplicates()).isPositive();
    assertThat(r.stats().format()).contains("train").contains("validation");
  }

  @Test
  void requiresAnOutputDirectory() {
    assertThatThrownBy(() -> DatasetPipeline.builder().build()).isInstanceOf(IllegalStateException.class);
  }
}

package dev.securetag.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.securetag.core.InvalidInputException;
import dev.securetag.core.TrainingExample;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetMergerTest {
  @TempDir Path dir;

  private Path file(String name, String content) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, content, StandardCharsets.UTF_8);
    return p;
  }

  @Test
  void mapsAlpacaShareGptMessagesAndPromptCompletionIntoOneAlpacaFile() throws IOException {
    Path alpaca = file("a.jsonl", """
        {"instruction":"Q1","input":"","output":"A1","metadata":{"source":"x.pdf","page":3}}
        {"instruction":"Q2","input":"ctx","output":"A2"}
        """);
    Path share = file("s.json", """
        [
          {"conversations":[{"from":"system","value":"sys"},{"from":"human","value":"Q3"},{"from":"gpt","value":"A3"}]},
          {"conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"hello"},
                            {"from":"human","value":"Q4"},{"from":"gpt","value":"A4"}]}
        ]
        """);
    Path msgs = file("m.jsonl", "{\"messages\":[{\"role\":\"user\",\"content\":\"Q5\"},"
        + "{\"role\":\"assistant\",\"content\":\"A5\"}]}\n{\"prompt\":\"Q6\",\"completion\":\"A6\"}\n");
    Path out = dir.resolve("out/combined.jsonl");
    DatasetMerger.Report r = DatasetMerger.builder().input(alpaca).input(share).input(msgs).build().merge(out);
    assertThat(r.malformed()).isZero();
    assertThat(r.written()).isEqualTo(6);
    assertThat(r.bySchema()).containsEntry(RecordSchema.SHAREGPT, 2L).containsEntry(RecordSchema.ALPACA, 2L)
        .containsEntry(RecordSchema.MESSAGES, 1L).containsEntry(RecordSchema.PROMPT_COMPLETION, 1L);
    List<TrainingExample> merged = DatasetMerger.readAll(out);
    assertThat(merged).extracting(TrainingExample::instruction).containsExactly("Q1", "Q2", "Q3", "Q4", "Q5", "Q6");
    assertThat(merged.get(0).metadata()).containsEntry("source", "x.pdf").containsEntry("page", 3);
    assertThat(merged.get(2).metadata()).containsEntry("system", "sys");
    assertThat(merged.get(3).input()).isEqualTo("User: hi\nAssistant: hello");
  }

  @Test
  void reportsAndSkipsMalformedLinesWithFileAndLine() throws IOException {
    Path bad = file("bad.jsonl", """
        {"instruction":"Q1","output":"A1"}
        {"instruction":"Q2","output":
        ["not", "an", "object"]

        {"foo":"bar"}
        {"instruction":"Q3","output":"   "}
        {"instruction":42,"output":"A"}
        {"instruction":"Q4","output":"A4"}
        """);
    DatasetMerger.Report r = DatasetMerger.builder().input(bad).build().merge(dir.resolve("o.jsonl"));
    assertThat(r.written()).isEqualTo(2);
    assertThat(r.malformed()).isEqualTo(5);
    assertThat(r.issues()).extracting(DatasetMerger.Issue::location)
        .containsExactly("bad.jsonl:2", "bad.jsonl:3", "bad.jsonl:5", "bad.jsonl:6", "bad.jsonl:7");
    assertThat(r.issues().get(0).reason()).startsWith("invalid JSON");
    assertThat(r.issues().get(1).reason()).contains("expected a JSON object");
    assertThat(r.issues().get(2).reason()).contains("unrecognised schema").contains("foo");
    assertThat(r.issues().get(3).reason()).contains("empty output");
    assertThat(r.issues().get(4).reason()).contains("\"instruction\" must be a string");
  }

  @Test
  void truncatedJsonArrayKeepsCompleteRecordsAndReportsWhere() throws IOException {
    Path arr = file("t.json", "\uFEFF[\n{\"prompt\":\"Q1\",\"completion\":\"A1\"},\n{\"prompt\":\"Q2\",\"comp");
    DatasetMerger.Report r = DatasetMerger.builder().input(arr).build().merge(dir.resolve("o.jsonl"));
    assertThat(r.written()).isEqualTo(1);
    assertThat(r.malformed()).isEqualTo(1);
    assertThat(r.issues().get(0).location()).isEqualTo("t.json:3");
  }

  @Test
  void dedupesAcrossInputsWhenAsked() throws IOException {
    Path a = file("a.jsonl", "{\"instruction\":\"Q\",\"output\":\"A\"}\n");
    Path b = file("b.jsonl", "{\"question\":\"q\",\"answer\":\"a\"}\n");
    DatasetMerger.Report r = DatasetMerger.builder().input(a).input(b).dedupe(Deduplicator.defaults()).build()
        .merge(dir.resolve("o.jsonl"));
    assertThat(r.written()).isEqualTo(1);
    assertThat(r.exactDuplicates()).isEqualTo(1);
  }

  @Test
  void missingInputIsInvalidInputNamingTheFile() {
    DatasetMerger m = DatasetMerger.builder().input(dir.resolve("none.jsonl")).build();
    assertThatThrownBy(() -> m.merge(dir.resolve("o.jsonl"))).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("none.jsonl");
    assertThat(dir.resolve("o.jsonl")).doesNotExist();
  }

  @Test
  void mergesAFileLargerThanTheHeapInBoundedMemory() throws Exception {
    Path big = dir.resolve("big.jsonl");
    String pad = "x".repeat(300);
    long records = 0;
    try (BufferedWriter w = Files.newBufferedWriter(big)) {
      while (Files.size(big) < 96L << 20 || records < 10) {
        for (int i = 0; i < 10_000; i++, records++) {
          w.write("{\"instruction\":\"Question " + records + "\",\"input\":\"\",\"output\":\"" + pad + records
              + "\"}\n");
        }
        w.flush();
      }
    }
    Path out = dir.resolve("merged.jsonl");
    Path log = dir.resolve("child.log");
    // A 32 MB heap cannot hold a 96 MB input: the merge only succeeds if it streams.
    Process p = ChildJvm.start(log, "32m", MergeMain.class, big.toString(), out.toString());
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(log)).isZero();
    assertThat(Files.readString(log)).contains("WRITTEN " + records + " MALFORMED 0");
    assertThat(Files.size(out)).isEqualTo(Files.size(big));
  }
}

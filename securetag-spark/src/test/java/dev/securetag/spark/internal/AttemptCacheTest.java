package dev.securetag.spark.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AttemptCacheTest {

  @Test
  void seedsANewAttemptWithEveryEntryOfTheEarlierOnesAndSkipsATornLine(@TempDir Path cache) throws Exception {
    String input = "hdfs:///corpus/iso.pdf";
    Path dir = AttemptCache.documentDir(cache, input);
    Files.createDirectories(dir);
    // attempt 1 was killed while writing its third entry; attempt 2 (a speculative copy) repeated one key
    Files.writeString(dir.resolve("app-1.jsonl"), "{\"k\":\"a\",\"v\":\"1\"}\n{\"k\":\"b\",\"v\":\"2\"}\n{\"k\":\"c\",\"v");
    Files.writeString(dir.resolve("app-2.jsonl"), "{\"k\":\"b\",\"v\":\"2\"}\n{\"k\":\"d\",\"v\":\"4\"}\n");

    Path mine = AttemptCache.prepare(cache, input, "app-3");

    assertThat(mine).hasFileName("app-3.jsonl").hasParent(dir);
    List<String> lines = Files.readAllLines(mine);
    assertThat(lines).containsExactly("{\"k\":\"a\",\"v\":\"1\"}", "{\"k\":\"b\",\"v\":\"2\"}", "{\"k\":\"d\",\"v\":\"4\"}");
    assertThat(AttemptCache.entries(cache, input)).isEqualTo(3);
  }

  @Test
  void keepsDocumentsWithTheSameFileNameApart(@TempDir Path cache) {
    assertThat(AttemptCache.documentDir(cache, "s3a://a/policy.pdf"))
        .isNotEqualTo(AttemptCache.documentDir(cache, "s3a://b/policy.pdf"));
    assertThat(AttemptCache.prepare(cache, "s3a://a/policy.pdf", "run-0")).isEmptyFile();
    assertThat(AttemptCache.entries(cache, "s3a://b/policy.pdf")).isZero();
  }
}

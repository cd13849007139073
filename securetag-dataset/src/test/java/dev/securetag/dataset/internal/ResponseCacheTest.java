package dev.securetag.dataset.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResponseCacheTest {
  @TempDir Path dir;

  @Test
  void persistsEntriesAcrossReopen() {
    Path f = dir.resolve("c.jsonl");
    try (ResponseCache c = ResponseCache.open(f)) {
      c.put("k1", "value with \"quotes\" and\nnewline");
      c.put("k2", "v2");
    }
    try (ResponseCache c = ResponseCache.open(f)) {
      assertThat(c.get("k1")).contains("value with \"quotes\" and\nnewline");
      assertThat(c.size()).isEqualTo(2);
      assertThat(c.corruptLines()).isZero();
    }
  }

  @Test
  void skipsTornTailAndStartsNextEntryOnAFreshLine() throws Exception {
    Path f = dir.resolve("c.jsonl");
    Files.writeString(f, "{\"k\":\"a\",\"v\":\"1\"}\ngarbage line\n{\"k\":\"b\",\"v\":\"2");
    try (ResponseCache c = ResponseCache.open(f)) {
      assertThat(c.get("a")).contains("1");
      assertThat(c.get("b")).isEmpty();
      assertThat(c.corruptLines()).isEqualTo(2);
      c.put("b", "2");
    }
    try (ResponseCache c = ResponseCache.open(f)) {
      assertThat(c.get("b")).contains("2");
      assertThat(c.size()).isEqualTo(2);
    }
  }

  @Test
  void closedCacheRejectsUse() {
    ResponseCache c = ResponseCache.open(dir.resolve("c.jsonl"));
    c.close();
    c.close();
    assertThatThrownBy(() -> c.get("x")).isInstanceOf(IllegalStateException.class);
  }
}

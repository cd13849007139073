package dev.securetag.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
  @TempDir Path dir;

  @Test
  void writesNewFileAndCreatesParents() throws IOException {
    Path f = dir.resolve("a/b/out.txt");
    AtomicFiles.writeString(f, "héllo");
    assertThat(Files.readString(f)).isEqualTo("héllo");
  }

  @Test
  void failedWriteLeavesOldContentAndNoTempFile() throws IOException {
    Path f = dir.resolve("data.jsonl");
    AtomicFiles.writeString(f, "old complete content\n");
    assertThatThrownBy(() -> AtomicFiles.write(f, out -> {
          out.write("new partial con".getBytes());
          out.flush();
          throw new IOException("disk full");
        }))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("data.jsonl")
        .hasMessageContaining("disk full");
    assertThat(Files.readString(f)).isEqualTo("old complete content\n");
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(f);
    }
  }

  @Test
  void runtimeExceptionMidwayAlsoLeavesNoPartialFile() throws IOException {
    Path f = dir.resolve("fresh.bin");
    assertThatThrownBy(() -> AtomicFiles.write(f, out -> {
          out.write(new byte[100_000]);
          throw new IllegalStateException("boom");
        }))
        .isInstanceOf(IllegalStateException.class);
    assertThat(f).doesNotExist();
    try (var files = Files.list(dir)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void newFilesAreWorldReadableAndReplacementsKeepPermissions() throws IOException {
    Path f = dir.resolve("model.gguf");
    AtomicFiles.write(f, new byte[] {1});
    assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-r--r--");
    Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw----"));
    AtomicFiles.write(f, new byte[] {2});
    assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-rw----");
  }

  @Test
  void replacesExistingFile() throws IOException {
    Path f = dir.resolve("x");
    AtomicFiles.write(f, new byte[] {1, 2, 3});
    AtomicFiles.write(f, new byte[] {4});
    assertThat(Files.readAllBytes(f)).containsExactly(4);
  }
}

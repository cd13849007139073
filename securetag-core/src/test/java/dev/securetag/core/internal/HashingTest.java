package dev.securetag.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HashingTest {
  @Test
  void matchesKnownSha256Vectors() {
    assertThat(Hashing.sha256Hex("")).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assertThat(Hashing.sha256Hex("abc")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  @Test
  void fileHashEqualsContentHash(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("f");
    byte[] data = new byte[200_000];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 31);
    }
    Files.write(f, data);
    assertThat(Hashing.sha256Hex(f)).isEqualTo(Hashing.sha256Hex(data));
  }
}

package dev.securetag.gguf;

import dev.securetag.testfixtures.SharedFixtures;
import java.nio.file.Path;

/**
 * The reference fixtures (tiny-llama, gguf-quant-golden.json), read in place through {@link SharedFixtures}, and
 * writable copies of fixture folders for tests that edit them.
 */
final class TestResources {
  private TestResources() {}

  /** A fixture file or directory relative to the fixture root, e.g. {@code tiny-llama/expected/model-f16.gguf}. */
  static Path path(String name) {
    return SharedFixtures.path(name);
  }

  /** Copies a fixture directory to {@code target} (created), with writable files. */
  static Path copyDir(String name, Path target) {
    return SharedFixtures.copy(name, target);
  }

  static byte[] hex(String s) {
    byte[] b = new byte[s.length() / 2];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
    }
    return b;
  }
}

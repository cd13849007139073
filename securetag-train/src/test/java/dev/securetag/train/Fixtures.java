package dev.securetag.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.Json;
import dev.securetag.testfixtures.SharedFixtures;
import java.nio.file.Path;

/**
 * The reference fixtures (tiny-llama, nf4-golden.json), read in place through {@link SharedFixtures}: shared/fixtures
 * beside the repository, a root named by -Dsecuretag.fixtures, or the bundled copy.
 */
final class Fixtures {
  private Fixtures() {}

  /** A fixture file or directory relative to the fixture root, e.g. {@code tiny-llama/hf}. */
  static Path path(String resource) {
    return SharedFixtures.path(resource);
  }

  static JsonNode json(String resource) {
    return Json.readTree(SharedFixtures.readString(resource), path(resource).toString());
  }

  static float hexFloat(String hex) {
    return Float.intBitsToFloat(Integer.parseUnsignedInt(hex, 16));
  }

  static float[] hexFloats(JsonNode arr) {
    float[] out = new float[arr.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = hexFloat(arr.get(i).asText());
    }
    return out;
  }

  static byte[] hexBytes(String s) {
    byte[] out = new byte[s.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
    }
    return out;
  }
}

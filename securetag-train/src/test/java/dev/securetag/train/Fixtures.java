package dev.securetag.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the test fixtures copied from /work/shared/fixtures. */
final class Fixtures {
  private Fixtures() {}

  static Path path(String resource) {
    try {
      return Path.of(Fixtures.class.getResource("/fixtures/" + resource).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static JsonNode json(String resource) {
    try {
      return Json.readTree(Files.readString(path(resource)), resource);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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

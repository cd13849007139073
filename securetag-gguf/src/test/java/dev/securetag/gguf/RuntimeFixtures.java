package dev.securetag.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The tiny-llama reference files copied for the runtime tests (llama.cpp logits, token ids, greedy runs). */
final class RuntimeFixtures {
  static final String DIR = "runtime-fixtures/";

  private RuntimeFixtures() {}

  static Path path(String name) {
    try {
      return Path.of(RuntimeFixtures.class.getResource("/" + DIR + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static JsonNode json(String name) {
    try {
      return Json.mapper().readTree(Files.readString(path(name)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The run of {@code setting} for {@code prompt} in a logits file. */
  static JsonNode run(JsonNode logitsJson, String file, String setting, String prompt) {
    for (JsonNode r : logitsJson.path("runs").path(file).path(setting)) {
      if (r.path("prompt").asText().equals(prompt)) {
        return r;
      }
    }
    throw new IllegalArgumentException("no run " + file + "/" + setting + "/" + prompt);
  }

  static float[] floats(JsonNode arr) {
    float[] f = new float[arr.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) arr.get(i).asDouble();
    }
    return f;
  }

  static int[] ints(JsonNode arr) {
    int[] f = new int[arr.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = arr.get(i).asInt();
    }
    return f;
  }

  static double maxAbsDiff(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
    }
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs((double) a[i] - b[i]));
    }
    return m;
  }
}

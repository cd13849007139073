package dev.securetag.gguf.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.Json;
import dev.securetag.testfixtures.SharedFixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tiny-llama reference files the runtime tests use (llama.cpp logits, token ids, greedy runs, GGUF files), read in
 * place through {@link SharedFixtures}. Names are those of the flat layout the tests were written against:
 * {@code hf} and {@code hf-lora} are the checkpoint folders, every other name is a file of {@code expected/}.
 */
final class RuntimeFixtures {
  /** The tiny-llama folder under the fixture root. */
  static final String DIR = "tiny-llama/";

  private RuntimeFixtures() {}

  static Path path(String name) {
    boolean checkpoint = name.equals("hf") || name.startsWith("hf/") || name.equals("hf-lora")
        || name.startsWith("hf-lora/");
    return SharedFixtures.path(DIR + (checkpoint ? "" : "expected/") + name);
  }

  /** Parsed once per name: the tests only read these trees. */
  private static final Map<String, JsonNode> PARSED = new ConcurrentHashMap<>();

  static JsonNode json(String name) {
    return PARSED.computeIfAbsent(name,
        n -> Json.readTree(SharedFixtures.readString(DIR + "expected/" + n), path(n).toString()));
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

  /** The prompts of logits.json in file order: id, text and llama.cpp's token ids. */
  static List<JsonNode> prompts() {
    List<JsonNode> out = new ArrayList<>();
    json("logits.json").path("prompts").forEach(out::add);
    if (out.isEmpty()) {
      throw new IllegalStateException("logits.json lists no prompts");
    }
    return out;
  }

  /** The prompt with the most tokens: the one that spans several prompt batches. */
  static JsonNode longestPrompt() {
    return prompts().stream().max(Comparator.comparingInt(p -> p.path("token_ids").size())).orElseThrow();
  }

  /** The Hugging Face config.json of the checkpoint the GGUF files were converted from. */
  static JsonNode hfConfig() {
    return PARSED.computeIfAbsent("hf/config.json",
        n -> Json.readTree(SharedFixtures.readString(DIR + n), DIR + n));
  }

  /** A key/value of one GGUF file as metadata.json lists it. */
  static JsonNode kv(String file, String key) {
    for (JsonNode kv : json("metadata.json").path("files").path(file).path("kvs")) {
      if (kv.path("key").asText().equals(key)) {
        return kv.path("value");
      }
    }
    throw new IllegalArgumentException("metadata.json has no " + key + " for " + file);
  }

  /** The number of weights in one GGUF file: the product of each tensor's dimensions, summed. */
  static long parameterCount(String file) {
    long n = 0;
    for (JsonNode t : json("metadata.json").path("files").path(file).path("tensors")) {
      long e = 1;
      for (JsonNode d : t.path("ne")) {
        e *= d.asLong();
      }
      n += e;
    }
    return n;
  }
}

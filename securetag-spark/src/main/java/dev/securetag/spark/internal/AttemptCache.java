package dev.securetag.spark.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.securetag.core.internal.AtomicFiles;
import dev.securetag.core.internal.Hashing;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The LLM response cache of one document on shared storage, safe for concurrent executors. {@code QaGenerator}'s
 * cache is one append-only, fsynced file; two task attempts (a retry racing a straggler, or speculative execution)
 * appending to one file on a network file system could interleave. So every attempt writes its own file,
 * {@code <cacheDir>/<document key>/<run>-<attempt>.jsonl}, seeded with every entry the earlier attempts of this
 * document left behind: a retried or re-run task finds all completed calls, whichever executor made them.
 *
 * <p>Keying by document rather than by Spark partition keeps the cache valid when the corpus grows or the job runs
 * with another partition count: the partitioning moves documents around, a document's directory stays put.
 */
public final class AttemptCache {
  private static final String SUFFIX = ".jsonl";

  private AttemptCache() {}

  /** The directory of one input path's cache (a hash of the path: file names may repeat across directories). */
  public static Path documentDir(Path cacheDir, String inputPath) {
    return cacheDir.resolve(Hashing.sha256Hex(inputPath).substring(0, 24));
  }

  /**
   * Creates this attempt's cache file holding every readable entry of the document's earlier attempt files (first
   * value per key wins; torn or damaged lines are skipped), and returns it for {@code QaGenerator.Builder.cache}.
   */
  public static Path prepare(Path cacheDir, String inputPath, String attempt) {
    Path dir = documentDir(cacheDir, inputPath);
    Path mine = dir.resolve(attempt + SUFFIX);
    try {
      Files.createDirectories(dir);
      List<Path> earlier = new ArrayList<>();
      try (Stream<Path> s = Files.list(dir)) {
        s.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().forEach(earlier::add);
      }
      StringBuilder merged = new StringBuilder();
      Set<String> keys = new HashSet<>();
      for (Path f : earlier) {
        String text = Files.readString(f, StandardCharsets.UTF_8);
        for (String line : text.split("\n")) {
          String key = keyOf(line);
          if (key != null && keys.add(key)) {
            merged.append(line).append('\n');
          }
        }
      }
      // Atomic: a reader (another attempt starting now) sees the old file set or the complete new file, never half.
      AtomicFiles.writeString(mine, merged.toString());
      return mine;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the LLM response cache in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Entries (distinct keys) in all attempt files of a document. */
  public static int entries(Path cacheDir, String inputPath) {
    Path dir = documentDir(cacheDir, inputPath);
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    Set<String> keys = new HashSet<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path f : s.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).toList()) {
        for (String line : Files.readString(f, StandardCharsets.UTF_8).split("\n")) {
          String key = keyOf(line);
          if (key != null) {
            keys.add(key);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the LLM response cache in " + dir + ": " + e.getMessage(), e);
    }
    return keys.size();
  }

  private static String keyOf(String line) {
    if (line.isBlank()) {
      return null;
    }
    try {
      JsonNode n = Json.mapper().readTree(line);
      JsonNode k = n == null ? null : n.get("k");
      JsonNode v = n == null ? null : n.get("v");
      return k != null && k.isTextual() && v != null && v.isTextual() ? k.asText() : null;
    } catch (IOException e) {
      return null; // a torn last line of a killed attempt
    }
  }
}

package dev.securetag.dataset;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** Starts a test main in a separate JVM (for memory bounds and kill-and-resume tests). */
final class ChildJvm {
  private ChildJvm() {}

  static ProcessBuilder builder(String heap, Class<?> main, String... args) {
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + heap, "-cp", cp, main.getName()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true);
  }

  static Process start(Path log, String heap, Class<?> main, String... args) throws IOException {
    return builder(heap, main, args).redirectOutput(log.toFile()).start();
  }
}

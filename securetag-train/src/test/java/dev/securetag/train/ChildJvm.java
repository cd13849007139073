package dev.securetag.train;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A test main running in a separate JVM, its output read line by line, so a test can wait for a line and then
 * {@code kill -9} it (SIGKILL through {@link Process#destroyForcibly}). Closing kills it if still alive.
 */
final class ChildJvm implements AutoCloseable {
  private static final String EOF = "\u0000eof";
  private final Process process;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());

  private ChildJvm(Process process) {
    this.process = process;
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String l = r.readLine(); l != null; l = r.readLine()) {
          log.add(l);
          lines.add(l);
        }
      } catch (IOException e) {
        log.add("(reading child output failed: " + e + ")");
      }
      lines.add(EOF);
    }, "child-jvm-output");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code main} with the test class path, this JVM's java and {@code -Xmx<heap>}. */
  static ChildJvm start(String heap, Class<?> main, String... args) throws IOException {
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    // Surefire runs tests from a manifest-only jar; the real class path is in this property.
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + heap, "-Dai.djl.offline=true", "-cp", cp,
        main.getName()));
    cmd.addAll(List.of(args));
    return new ChildJvm(new ProcessBuilder(cmd).redirectErrorStream(true).start());
  }

  /** Waits for an output line equal to {@code expected}; fails with the child's output if it exits or times out. */
  void awaitLine(String expected, long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    while (true) {
      String l = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (l == null) {
        throw new AssertionError("child printed no '" + expected + "' within " + timeout + " " + unit + "; output:\n"
            + output());
      }
      if (l.equals(EOF)) {
        throw new AssertionError("child ended before printing '" + expected + "'; output:\n" + output());
      }
      if (l.equals(expected)) {
        return;
      }
    }
  }

  /** SIGKILLs the running child and returns its exit status (137 = 128 + SIGKILL). */
  int kill9() throws InterruptedException {
    if (!process.isAlive()) {
      throw new AssertionError("child already exited (" + process.exitValue() + ") before the kill; output:\n"
          + output());
    }
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("child survived SIGKILL for 30 s");
    }
    return process.exitValue();
  }

  String output() {
    synchronized (log) {
      return String.join("\n", log);
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }
}

package dev.securetag.testfixtures;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the reference fixtures (tiny-llama, gguf-quant-golden.json, nf4-golden.json) that tests read in place, as
 * real files: GGUF files are memory-mapped, and a test must check whatever the fixture holds, so the files are never
 * copied into a module.
 *
 * <p>The root is, in order:
 * <ol>
 *   <li>the directory named by the system property {@value #ROOT_PROPERTY} or the environment variable
 *       {@value #ROOT_ENV} (an acceptance run pointing at fixtures made with other seeds and shapes);
 *   <li>{@code shared/fixtures} beside the repository (the repository root is the first directory above the working
 *       directory that holds {@code mvnw}), or inside it;
 *   <li>the one copy bundled in this module, so that a clean clone without {@code shared/} still tests. Setting
 *       {@value #BUNDLED_PROPERTY}{@code =true} forces it.
 * </ol>
 * The choice is logged once. A named root that does not exist is an error, never a silent fallback.
 */
public final class SharedFixtures {
  /** System property naming the fixture root. */
  public static final String ROOT_PROPERTY = "securetag.fixtures";
  /** Environment variable naming the fixture root (the property wins). */
  public static final String ROOT_ENV = "SECURETAG_FIXTURES";
  /** System property that, when {@code true}, skips the lookup and uses the bundled copy. */
  public static final String BUNDLED_PROPERTY = "securetag.fixtures.bundled";

  static final String BUNDLED_RESOURCE = "/securetag-fixtures/";
  static final String MANIFEST = "SHA256SUMS";

  private static final Logger LOG = LoggerFactory.getLogger(SharedFixtures.class);
  private static final Object LOCK = new Object();
  private static Resolved resolved;
  private static Path bundled;

  private SharedFixtures() {}

  /** Where a fixture root came from. */
  public enum Source {
    /** The {@value #ROOT_PROPERTY} system property. */
    PROPERTY,
    /** The {@value #ROOT_ENV} environment variable. */
    ENVIRONMENT,
    /** {@code shared/fixtures} found beside (or inside) the repository. */
    SHARED,
    /** The copy bundled in securetag-test-fixtures. */
    BUNDLED
  }

  /** A resolved root and why it was chosen. */
  public record Resolved(Path root, Source source, String reason) {
    public Resolved {
      Objects.requireNonNull(root, "root");
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** The fixture root this JVM uses (resolved and logged once). */
  public static Path root() {
    return resolved().root();
  }

  /** The fixture root and where it came from. */
  public static Resolved resolved() {
    synchronized (LOCK) {
      if (resolved == null) {
        resolved = resolve(System::getProperty, System.getenv(), Path.of("").toAbsolutePath(),
            SharedFixtures::bundledRoot);
        LOG.info("test fixtures: {} ({})", resolved.root(), resolved.reason());
      }
      return resolved;
    }
  }

  /** Whether the fixtures in use are the bundled copy (shared/fixtures was not found or was bypassed). */
  public static boolean usingBundledCopy() {
    return resolved().source() == Source.BUNDLED;
  }

  /**
   * A fixture file or directory, e.g. {@code tiny-llama/hf} or {@code nf4-golden.json}, relative to {@link #root()}.
   *
   * @throws IllegalStateException naming the root and where it came from when the path does not exist there
   */
  public static Path path(String relative) {
    Resolved r = resolved();
    Path p = r.root().resolve(relative).normalize();
    if (!p.startsWith(r.root())) {
      throw new IllegalArgumentException("fixture path escapes the fixture root: " + relative);
    }
    if (!Files.exists(p)) {
      throw new IllegalStateException("fixture '" + relative + "' not found under " + r.root() + " (" + r.reason()
          + ")");
    }
    return p;
  }

  /** The UTF-8 text of a fixture file. */
  public static String readString(String relative) {
    try {
      return Files.readString(path(relative), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A fixture path in the bundled copy, whatever root is in use. For tests that build their own models and only need
   * a real tokenizer of known size, so that their hand-written shapes do not depend on an acceptance fixture.
   */
  public static Path bundled(String relative) {
    Path root = bundledRoot();
    Path p = root.resolve(relative).normalize();
    if (!p.startsWith(root) || !Files.exists(p)) {
      throw new IllegalStateException("bundled fixture '" + relative + "' not found under " + root);
    }
    return p;
  }

  /**
   * Copies a fixture file or directory to {@code target} (parent directories created) and makes the copies writable:
   * the shared fixtures are read-only, and tests that corrupt or edit a fixture work on such a copy.
   */
  public static Path copy(String relative, Path target) {
    Path src = path(relative);
    try (Stream<Path> files = Files.walk(src)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path dst = target.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(dst);
        } else {
          Files.createDirectories(dst.toAbsolutePath().getParent());
          Files.copy(p, dst, StandardCopyOption.REPLACE_EXISTING);
        }
        dst.toFile().setWritable(true, true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return target;
  }

  /**
   * The lookup, with its inputs passed in so that it can be tested.
   *
   * @param props system properties
   * @param env environment variables
   * @param cwd the working directory (surefire runs tests in the module directory)
   * @param bundledRoot supplies the bundled copy; called only when it is chosen
   */
  static Resolved resolve(Function<String, String> props, Map<String, String> env, Path cwd,
      java.util.function.Supplier<Path> bundledRoot) {
    String prop = props.apply(ROOT_PROPERTY);
    if (prop != null && !prop.isBlank()) {
      return named(Path.of(prop), Source.PROPERTY, "-D" + ROOT_PROPERTY);
    }
    String ev = env.get(ROOT_ENV);
    if (ev != null && !ev.isBlank()) {
      return named(Path.of(ev), Source.ENVIRONMENT, "$" + ROOT_ENV);
    }
    if (Boolean.parseBoolean(props.apply(BUNDLED_PROPERTY))) {
      return new Resolved(bundledRoot.get(), Source.BUNDLED, "bundled copy, forced by -D" + BUNDLED_PROPERTY);
    }
    Path repo = repositoryRoot(cwd.toAbsolutePath());
    if (repo != null) {
      List<Path> candidates = new ArrayList<>();
      if (repo.getParent() != null) {
        candidates.add(repo.getParent().resolve("shared/fixtures"));
      }
      candidates.add(repo.resolve("shared/fixtures"));
      for (Path c : candidates) {
        if (Files.isDirectory(c)) {
          return new Resolved(real(c), Source.SHARED, "shared fixtures beside the repository " + repo);
        }
      }
      return new Resolved(bundledRoot.get(), Source.BUNDLED,
          "bundled copy: no shared/fixtures beside or inside the repository " + repo);
    }
    return new Resolved(bundledRoot.get(), Source.BUNDLED,
        "bundled copy: no repository root (directory with mvnw) above " + cwd);
  }

  private static Resolved named(Path dir, Source source, String what) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException(what + " names " + dir + ", which is not a directory");
    }
    return new Resolved(real(dir), source, "named by " + what);
  }

  private static Path real(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The first directory at or above {@code dir} that holds the Maven wrapper, or null. */
  static Path repositoryRoot(Path dir) {
    for (Path d = dir; d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("mvnw")) && Files.isRegularFile(d.resolve("pom.xml"))) {
        return d;
      }
    }
    return null;
  }

  /**
   * The bundled copy as a directory: in place when the class path holds it as files (a reactor build), else
   * extracted once per JVM from the jar into a temporary directory that is deleted at exit.
   */
  public static Path bundledRoot() {
    synchronized (LOCK) {
      if (bundled == null) {
        bundled = locateBundled();
      }
      return bundled;
    }
  }

  private static Path locateBundled() {
    URL manifest = SharedFixtures.class.getResource(BUNDLED_RESOURCE + MANIFEST);
    if (manifest == null) {
      throw new IllegalStateException("the bundled fixtures are missing from the class path ("
          + BUNDLED_RESOURCE + MANIFEST + ")");
    }
    if ("file".equals(manifest.getProtocol())) {
      try {
        return Path.of(manifest.toURI()).getParent().toRealPath();
      } catch (URISyntaxException | IOException e) {
        throw new IllegalStateException("cannot read the bundled fixtures at " + manifest, e);
      }
    }
    try {
      Path dir = Files.createTempDirectory("securetag-fixtures");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir), "securetag-fixtures-cleanup"));
      for (String name : manifestEntries()) {
        try (InputStream in = SharedFixtures.class.getResourceAsStream(BUNDLED_RESOURCE + name)) {
          if (in == null) {
            throw new IllegalStateException("bundled fixture " + name + " is listed in " + MANIFEST
                + " but missing from " + manifest);
          }
          Path dst = dir.resolve(name);
          Files.createDirectories(dst.getParent());
          Files.copy(in, dst);
        }
      }
      try (InputStream in = manifest.openStream()) {
        Files.copy(in, dir.resolve(MANIFEST));
      }
      return dir.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract the bundled fixtures from " + manifest, e);
    }
  }

  /** The relative file names listed in the bundled copy's SHA256SUMS. */
  static List<String> manifestEntries() throws IOException {
    List<String> names = new ArrayList<>();
    try (InputStream in = SharedFixtures.class.getResourceAsStream(BUNDLED_RESOURCE + MANIFEST);
        BufferedReader r = new BufferedReader(new InputStreamReader(
            Objects.requireNonNull(in, MANIFEST), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (!line.isBlank()) {
          names.add(line.substring(line.indexOf("  ") + 2));
        }
      }
    }
    return names;
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // Best effort at JVM exit: the directory is under java.io.tmpdir.
    }
  }
}

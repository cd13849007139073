package dev.securetag.runpod.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Text files kept as class-path resources with {@code @@NAME@@} placeholders (the worker's Dockerfile, scripts,
 * compose file), so they can be read, linted and diffed as the files they become. Rendering is strict both ways: a
 * placeholder without a value and a value without a placeholder are both errors, so a template and its caller cannot
 * drift apart silently. Values are inserted verbatim; callers validate them for the file's syntax.
 */
public final class ResourceTemplate {
  private static final Pattern PLACEHOLDER = Pattern.compile("@@([A-Z][A-Z0-9_]*)@@");

  private ResourceTemplate() {}

  /** The resource's text (UTF-8), {@code resource} relative to this class's package root, e.g. {@code worker/x}. */
  public static String load(Class<?> anchor, String resource) {
    try (InputStream in = anchor.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("template resource " + resource + " is missing from the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read template resource " + resource, e);
    }
  }

  /** The placeholder names a template uses. */
  public static Set<String> placeholders(String text) {
    Set<String> names = new TreeSet<>();
    Matcher m = PLACEHOLDER.matcher(text);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /**
   * Replaces every placeholder of {@code text} (named {@code name} in errors) by its value.
   *
   * @throws IllegalStateException when a placeholder has no value or a value is not used
   */
  public static String render(String name, String text, Map<String, String> values) {
    Set<String> unused = new LinkedHashSet<>(values.keySet());
    Matcher m = PLACEHOLDER.matcher(text);
    StringBuilder sb = new StringBuilder(text.length() + 256);
    while (m.find()) {
      String key = m.group(1);
      String value = values.get(key);
      if (value == null) {
        throw new IllegalStateException("template " + name + " uses @@" + key + "@@, which has no value");
      }
      unused.remove(key);
      m.appendReplacement(sb, Matcher.quoteReplacement(value));
    }
    m.appendTail(sb);
    if (!unused.isEmpty()) {
      throw new IllegalStateException("template " + name + " has no placeholder for " + unused);
    }
    return sb.toString();
  }
}

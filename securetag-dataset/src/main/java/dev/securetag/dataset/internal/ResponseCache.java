package dev.securetag.dataset.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.securetag.core.internal.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An append-only JSONL file of LLM responses keyed by request hash, fsynced after every entry, so a run killed at
 * any moment loses at most the call in flight. On open, unreadable lines (a torn last line from a kill, or damage)
 * are skipped and counted; the next append starts on a fresh line.
 */
public final class ResponseCache implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ResponseCache.class);

  private final Path file;
  private final FileChannel channel;
  private final Map<String, String> entries = new HashMap<>();
  private final int corruptLines;
  private boolean needsNewline;
  private boolean closed;

  private ResponseCache(Path file) throws IOException {
    this.file = file;
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    int corrupt = 0;
    if (Files.exists(file)) {
      byte[] bytes = Files.readAllBytes(file);
      String text = new String(bytes, StandardCharsets.UTF_8);
      String[] lines = text.split("\n", -1);
      for (int i = 0; i < lines.length; i++) {
        String line = lines[i];
        if (line.isBlank()) {
          continue;
        }
        try {
          JsonNode n = Json.mapper().readTree(line);
          JsonNode k = n.get("k");
          JsonNode v = n.get("v");
          if (k == null || v == null || !k.isTextual() || !v.isTextual()) {
            corrupt++;
            continue;
          }
          entries.put(k.asText(), v.asText());
        } catch (JsonProcessingException e) {
          corrupt++;
          LOG.warn("{}:{}: skipping unreadable cache line ({})", file.getFileName(), i + 1, e.getOriginalMessage());
        }
      }
      needsNewline = bytes.length > 0 && bytes[bytes.length - 1] != '\n';
    }
    this.corruptLines = corrupt;
    this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND);
  }

  public static ResponseCache open(Path file) {
    try {
      return new ResponseCache(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open cache " + file + ": " + e.getMessage(), e);
    }
  }

  public synchronized Optional<String> get(String key) {
    checkOpen();
    return Optional.ofNullable(entries.get(key));
  }

  /** Appends and fsyncs one entry; on return it survives a kill. */
  public synchronized void put(String key, String value) {
    checkOpen();
    ObjectNode n = Json.object();
    n.put("k", key);
    n.put("v", value);
    String line = (needsNewline ? "\n" : "") + Json.write(n) + "\n";
    try {
      ByteBuffer buf = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
      while (buf.hasRemaining()) {
        channel.write(buf);
      }
      channel.force(false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to cache " + file + ": " + e.getMessage(), e);
    }
    needsNewline = false;
    entries.put(key, value);
  }

  public synchronized int size() {
    return entries.size();
  }

  /** Lines skipped as unreadable when the file was opened. */
  public int corruptLines() {
    return corruptLines;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("cache " + file + " is closed");
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      channel.close();
    } catch (IOException e) {
      LOG.warn("closing cache {}: {}", file, e.getMessage());
    }
  }
}

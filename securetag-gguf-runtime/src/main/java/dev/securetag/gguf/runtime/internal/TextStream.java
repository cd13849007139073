package dev.securetag.gguf.runtime.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Turns token bytes into text that is safe to hand out while generating: incomplete UTF-8 sequences wait for the
 * next token, and text that could be the beginning of a stop sequence is held back until it is known not to be one.
 */
public final class TextStream {
  private final List<String> stops;
  private final ByteArrayOutputStream pendingBytes = new ByteArrayOutputStream();
  private final StringBuilder pending = new StringBuilder();
  private final StringBuilder released = new StringBuilder();
  private boolean stopped;

  public TextStream(List<String> stops) {
    this.stops = List.copyOf(stops);
  }

  /** True once a stop sequence was seen; nothing more is released. */
  public boolean stopped() {
    return stopped;
  }

  /** All text released so far. */
  public String text() {
    return released.toString();
  }

  /** Adds a token's bytes and returns the text that became final. */
  public String push(byte[] bytes) {
    if (stopped) {
      return "";
    }
    pendingBytes.writeBytes(bytes);
    byte[] all = pendingBytes.toByteArray();
    int complete = completePrefix(all);
    pendingBytes.reset();
    pendingBytes.write(all, complete, all.length - complete);
    pending.append(new String(all, 0, complete, StandardCharsets.UTF_8));
    return release(false);
  }

  /** Releases everything still held (end of generation without a stop sequence). */
  public String flush() {
    if (stopped) {
      return "";
    }
    if (pendingBytes.size() > 0) {
      pending.append(pendingBytes.toString(StandardCharsets.UTF_8));
      pendingBytes.reset();
    }
    return release(true);
  }

  private String release(boolean all) {
    int cut = -1;
    for (String s : stops) {
      int i = pending.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) {
        cut = i;
      }
    }
    String out;
    if (cut >= 0) {
      stopped = true;
      out = pending.substring(0, cut);
      pending.setLength(0);
    } else {
      int hold = all ? 0 : heldBack();
      out = pending.substring(0, pending.length() - hold);
      pending.delete(0, pending.length() - hold);
    }
    released.append(out);
    return out;
  }

  private int heldBack() {
    int hold = 0;
    for (String s : stops) {
      for (int k = Math.min(s.length() - 1, pending.length()); k > hold; k--) {
        if (pending.substring(pending.length() - k).equals(s.substring(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return hold;
  }

  /** Length of the longest prefix that does not end inside a UTF-8 sequence. */
  static int completePrefix(byte[] b) {
    int n = b.length;
    for (int back = 1; back <= Math.min(3, n); back++) {
      int c = b[n - back] & 0xFF;
      if ((c & 0xC0) == 0x80) {
        continue;
      }
      int need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      return need > back ? n - back : n;
    }
    return n;
  }
}

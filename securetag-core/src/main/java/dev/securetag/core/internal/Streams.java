package dev.securetag.core.internal;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The stream wrappers securetag's file writers share (safetensors, GGUF, atomic files): a byte-counting stream and one
 * that ignores {@code close()}, so a callee that closes what it is given cannot close the caller's stream. Not API.
 */
public final class Streams {
  private Streams() {}

  /** {@code out} with {@code close()} turned into {@code flush()}. */
  public static OutputStream nonClosing(OutputStream out) {
    return new FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        flush();
      }
    };
  }

  /** An output stream that counts the bytes written through it. */
  public static final class CountingOutputStream extends FilterOutputStream {
    private long count;

    public CountingOutputStream(OutputStream out) {
      super(out);
    }

    /** Bytes written so far. */
    public long count() {
      return count;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }
}

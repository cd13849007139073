package dev.securetag.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import org.junit.jupiter.api.Test;

class StreamsTest {

  @Test
  void countingStreamCountsEveryByteItPassesOn() throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    Streams.CountingOutputStream out = new Streams.CountingOutputStream(sink);
    out.write(7);
    out.write(new byte[] {1, 2, 3, 4, 5}, 1, 3);
    assertThat(out.count()).isEqualTo(4);
    assertThat(sink.toByteArray()).containsExactly(7, 2, 3, 4);
  }

  @Test
  void nonClosingStreamFlushesButLeavesTheTargetOpen() throws IOException {
    boolean[] closed = {false};
    ByteArrayOutputStream sink = new ByteArrayOutputStream() {
      @Override
      public void close() {
        closed[0] = true;
      }
    };
    try (OutputStream out = Streams.nonClosing(sink)) {
      out.write(new byte[] {9, 8});
    }
    assertThat(closed[0]).isFalse();
    assertThat(sink.toByteArray()).containsExactly(9, 8);
  }
}

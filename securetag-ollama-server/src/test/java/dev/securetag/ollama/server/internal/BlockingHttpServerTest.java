package dev.securetag.ollama.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

class BlockingHttpServerTest {

  /** A parsed HTTP response read off a raw socket. */
  private record Reply(int status, Map<String, String> headers, String body) {}

  private static BlockingHttpServer start(int maxConnections, BlockingHttpServer.Handler handler) throws IOException {
    return BlockingHttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16, maxConnections,
        "test-http", handler);
  }

  /** Answers {@code <method> <path> <body>} with a fixed length. */
  private static void echo(BlockingHttpServer.Exchange ex) throws IOException {
    String body = new String(ex.requestBody().readAllBytes(), StandardCharsets.UTF_8);
    byte[] out = (ex.method() + " " + ex.path() + " " + body).getBytes(StandardCharsets.UTF_8);
    ex.responseHeader("Content-Type", "text/plain");
    ex.sendResponseHeaders(200, out.length);
    ex.responseBody().write(out);
  }

  private static Socket connect(BlockingHttpServer server) throws IOException {
    Socket s = new Socket(server.address().getAddress(), server.address().getPort());
    s.setSoTimeout(10_000);
    return s;
  }

  private static void send(Socket s, String raw) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      sb.append((char) b);
    }
    if (b < 0 && sb.length() == 0) {
      return null;
    }
    return sb.toString().replaceAll("\r$", "");
  }

  private static Reply read(InputStream in) throws IOException {
    String status = line(in);
    if (status == null) {
      return null;
    }
    Map<String, String> headers = new LinkedHashMap<>();
    String h;
    while (!(h = line(in)).isEmpty()) {
      int c = h.indexOf(':');
      headers.put(h.substring(0, c).toLowerCase(Locale.ROOT), h.substring(c + 1).trim());
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if ("chunked".equals(headers.get("transfer-encoding"))) {
      int size;
      while ((size = Integer.parseInt(line(in), 16)) > 0) {
        body.write(in.readNBytes(size));
        line(in);
      }
      line(in);
    } else if (headers.containsKey("content-length")) {
      body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
    }
    return new Reply(Integer.parseInt(status.split(" ")[1]), headers, body.toString(StandardCharsets.UTF_8));
  }

  @Test
  void servesSeveralRequestsOnOneKeepAliveConnection() throws Exception {
    try (BlockingHttpServer server = start(8, BlockingHttpServerTest::echo); Socket s = connect(server)) {
      send(s, "POST /api/generate?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
      Reply first = read(s.getInputStream());
      assertThat(first.status()).isEqualTo(200);
      assertThat(first.body()).isEqualTo("POST /api/generate hello");
      assertThat(first.headers()).containsKey("date").doesNotContainKey("connection");
      send(s, "GET /api/tags HTTP/1.1\r\nHost: h\r\n\r\n");
      assertThat(read(s.getInputStream()).body()).isEqualTo("GET /api/tags ");
      send(s, "HEAD / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
      Reply head = read(s.getInputStream());
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.headers()).containsEntry("connection", "close").containsEntry("content-length", "7");
      assertThat(s.getInputStream().read()).as("no HEAD body, then the close").isEqualTo(-1);
    }
  }

  @Test
  void decodesChunkedRequestBodiesAndAnswersExpectContinue() throws Exception {
    try (BlockingHttpServer server = start(8, BlockingHttpServerTest::echo); Socket s = connect(server)) {
      send(s, "POST /api/chat HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
      InputStream in = s.getInputStream();
      assertThat(line(in)).isEqualTo("HTTP/1.1 100 Continue");
      assertThat(line(in)).isEmpty();
      send(s, "4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Trailer: t\r\n\r\n");
      assertThat(read(in).body()).isEqualTo("POST /api/chat abcdefg");
    }
  }

  @Test
  void streamsAResponseChunkByChunkAsTheHandlerFlushes() throws Exception {
    CountDownLatch firstSeen = new CountDownLatch(1);
    AtomicBoolean secondWaited = new AtomicBoolean();
    try (BlockingHttpServer server = start(8, ex -> {
          ex.responseHeader("Content-Type", "application/x-ndjson");
          ex.sendResponseHeaders(200, 0);
          OutputStream out = ex.responseBody();
          out.write("{\"n\":1}\n".getBytes(StandardCharsets.UTF_8));
          out.flush();
          try {
            secondWaited.set(firstSeen.await(10, TimeUnit.SECONDS));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          out.write("{\"n\":2}\n".getBytes(StandardCharsets.UTF_8));
        })) {
      OkHttpClient http = new OkHttpClient();
      try (Response r = http.newCall(new Request.Builder().url("http://127.0.0.1:" + server.address().getPort() + "/s")
          .build()).execute()) {
        assertThat(r.header("Transfer-Encoding")).isEqualTo("chunked");
        var source = r.body().source();
        assertThat(source.readUtf8LineStrict()).isEqualTo("{\"n\":1}");
        firstSeen.countDown();
        assertThat(source.readUtf8LineStrict()).isEqualTo("{\"n\":2}");
        assertThat(source.exhausted()).isTrue();
      }
      assertThat(secondWaited).isTrue();
      http.connectionPool().evictAll();
    }
  }

  @Test
  void reportsACallerThatHangsUpWhileTheHandlerHasNothingToWrite() throws Exception {
    CountDownLatch watching = new CountDownLatch(1);
    CountDownLatch gone = new CountDownLatch(1);
    List<Boolean> seenByHandler = new CopyOnWriteArrayList<>();
    try (BlockingHttpServer server = start(8, ex -> {
          ex.requestBody().readAllBytes();
          ex.watchForDisconnect(gone::countDown);
          watching.countDown();
          try {
            gone.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          seenByHandler.add(ex.callerGone());
        })) {
      Socket s = connect(server);
      send(s, "POST /api/generate HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}");
      assertThat(watching.await(10, TimeUnit.SECONDS)).isTrue();
      s.close();
      assertThat(gone.await(10, TimeUnit.SECONDS)).as("hang-up noticed without any write").isTrue();
      TestWait.until(() -> !seenByHandler.isEmpty());
      assertThat(seenByHandler).containsExactly(true);
      TestWait.until(() -> server.openConnections() == 0);
    }
  }

  @Test
  void aQuietOrPipeliningCallerIsNotMistakenForOneThatLeft() throws Exception {
    AtomicBoolean gone = new AtomicBoolean();
    try (BlockingHttpServer server = start(8, ex -> {
          String body = new String(ex.requestBody().readAllBytes(), StandardCharsets.UTF_8);
          ex.watchForDisconnect(() -> gone.set(true));
          try {
            Thread.sleep(300); // a generation in progress, nothing to write yet
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          byte[] out = body.getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, out.length);
          ex.responseBody().write(out);
        });
        Socket s = connect(server)) {
      send(s, "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\none");
      assertThat(read(s.getInputStream()).body()).isEqualTo("one");
      // Two requests in one write: the watcher of the first reads the second's bytes and must hand them on.
      send(s, "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\ntwoPOST /a HTTP/1.1\r\nHost: h\r\n"
          + "Content-Length: 5\r\n\r\nthree");
      assertThat(read(s.getInputStream()).body()).isEqualTo("two");
      assertThat(read(s.getInputStream()).body()).isEqualTo("three");
      assertThat(gone).isFalse();
    }
  }

  @Test
  void refusesConnectionsBeyondTheCapWith503() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (BlockingHttpServer server = start(1, ex -> {
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          echo(ex);
        });
        Socket first = connect(server)) {
      send(first, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
      TestWait.until(() -> server.openConnections() == 1);
      try (Socket second = connect(server)) {
        Reply refused = read(second.getInputStream());
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.headers()).containsEntry("retry-after", "1");
        assertThat(refused.body()).contains("too many open connections");
      }
      release.countDown();
      assertThat(read(first.getInputStream()).body()).isEqualTo("GET /slow ");
    }
  }

  @Test
  void rejectsMalformedRequestsWithTheirStatus() throws Exception {
    try (BlockingHttpServer server = start(8, BlockingHttpServerTest::echo)) {
      Map<String, Integer> cases = new LinkedHashMap<>();
      cases.put("GARBAGE\r\n\r\n", 400);
      cases.put("GET / HTTP/2.0\r\n\r\n", 505);
      cases.put("GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 400);
      cases.put("POST / HTTP/1.1\r\nContent-Length: -4\r\n\r\n", 400);
      cases.put("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400);
      cases.put("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
      cases.put("GET / HTTP/1.1\r\nX-Big: " + "x".repeat(20_000) + "\r\n\r\n", 431);
      for (Map.Entry<String, Integer> c : cases.entrySet()) {
        try (Socket s = connect(server)) {
          send(s, c.getKey());
          Reply r = read(s.getInputStream());
          assertThat(r.status()).as(c.getKey().substring(0, Math.min(40, c.getKey().length()))).isEqualTo(c.getValue());
          assertThat(r.headers()).containsEntry("connection", "close");
        }
      }
    }
  }

  /** Bounded polling for conditions set by server threads. */
  private static final class TestWait {
    static void until(java.util.function.BooleanSupplier condition) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!condition.getAsBoolean()) {
        if (System.nanoTime() > end) {
          throw new AssertionError("condition not met within 10 s");
        }
        Thread.sleep(10);
      }
    }
  }
}
